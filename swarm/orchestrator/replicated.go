package orchestrator

import (
	"sort"

	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/store"
)

// replicas gives the replica count of a replicated service (1 when unset, as Docker defaults).
func replicas(s *store.Service) int {
	if r := s.Spec.Mode.Replicated; r != nil && r.Replicas != nil {
		return int(*r.Replicas)
	}
	return 1
}

// slotInfo describes an occupied slot for scale-down choices.
type slotInfo struct {
	key     SlotKey
	tasks   []*store.Task // runnable tasks
	running bool          // a task of the slot is observed running
	node    string        // the node of the slot's single runnable task, if any
	index   int           // this slot is the index-th copy of the service on its node; -1: no node
}

// replicated reconciles a replicated service: scale down, replace ended tasks, scale up, update.
func (r *rc) replicated() {
	r.checkUpdate()
	want := replicas(r.svc)
	slots := r.slots()

	// Occupied slots: those with a runnable task, and those whose task finished for good.
	var occupied []*slotInfo
	dead := map[SlotKey]bool{}
	for _, k := range sortedKeys(slots) {
		ts := slots[k]
		run := runnableOf(ts)
		if len(run) == 0 {
			if !finished(r.mode, r.svc, newest(ts), r.history(k)) {
				dead[k] = true
				continue
			}
		}
		si := &slotInfo{key: k, tasks: run, index: -1}
		for _, t := range run {
			if t.Status.State == swarm.TaskStateRunning {
				si.running = true
			}
		}
		if len(run) == 1 && run[0].NodeID != "" {
			si.node = run[0].NodeID
		}
		occupied = append(occupied, si)
	}

	// Scale down: keep the slots on the least loaded nodes, running ones first, lowest numbers first.
	keep := occupied
	if len(occupied) > want {
		keep = r.chooseSlots(occupied, want)
		kept := map[SlotKey]bool{}
		for _, si := range keep {
			kept[si.key] = true
		}
		for _, si := range occupied {
			if !kept[si.key] {
				for _, t := range slots[si.key] {
					r.setDesired(t, swarm.TaskStateRemove)
				}
			}
		}
	}
	kept := map[SlotKey]bool{}
	for _, si := range keep {
		kept[si.key] = true
	}

	// Replace ended tasks and tasks on lost nodes, in the slots kept.
	r.restarts(func(t *store.Task) bool { return !kept[slotKey(r.mode, t)] })

	// Scale up into the lowest free slot numbers.
	used := map[int]bool{}
	for k := range kept {
		used[k.Slot] = true
	}
	slot := 0
	for n := len(keep); n < want; n++ {
		for slot++; used[slot]; slot++ {
		}
		used[slot] = true
		delete(dead, SlotKey{ServiceID: r.svc.ID, Slot: slot})
		r.create(NewTask(r.svc, slot, "", r.now))
	}
	// Slots left dead and unused: their history goes.
	for k := range dead {
		if !used[k.Slot] {
			for _, t := range slots[k] {
				r.setDesired(t, swarm.TaskStateRemove)
			}
		}
	}

	// Roll out spec changes over the kept slots.
	var upd []updSlot
	cur := r.slots()
	for _, k := range sortedKeys(cur) {
		if !kept[k] {
			continue
		}
		if run := runnableOf(cur[k]); len(run) > 0 {
			upd = append(upd, updSlot{key: k, tasks: run})
		}
	}
	r.update(upd)
}

// chooseSlots picks the n slots to keep when scaling down: first the slots that are the first copy
// of the service on their node, then the second copies, and so on (so the busiest nodes lose tasks
// first); slots with no node last; among equals, running slots before others, then low slot numbers.
func (r *rc) chooseSlots(occupied []*slotInfo, n int) []*slotInfo {
	ordered := append([]*slotInfo(nil), occupied...)
	sort.SliceStable(ordered, func(i, j int) bool {
		if ordered[i].running != ordered[j].running {
			return ordered[i].running
		}
		return ordered[i].key.Slot < ordered[j].key.Slot
	})
	perNode := map[string]int{}
	for _, si := range ordered {
		if si.node != "" {
			perNode[si.node]++
			si.index = perNode[si.node]
		}
	}
	sort.SliceStable(ordered, func(i, j int) bool {
		a, b := ordered[i].index, ordered[j].index
		if (a < 0) != (b < 0) {
			return b < 0
		}
		return a < b
	})
	return ordered[:n]
}
