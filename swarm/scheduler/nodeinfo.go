package scheduler

import (
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/store"
	"github.com/shoal-project/shoal/swarm/taskstate"
)

const (
	// failureWindow is how far back task failures on a node count against it for a service.
	failureWindow = 5 * time.Minute
	// maxFailures recent failures of a service on a node make the node the last choice for it.
	maxFailures = 5
)

// hostPort is a host-mode published port in use on a node.
type hostPort struct {
	protocol swarm.PortConfigProtocol
	port     uint32
}

// nodeInfo is a node and what the tasks assigned to it use.
type nodeInfo struct {
	node *store.Node
	// available is what the node offers minus the reservations of the tasks on it.
	availableCPU, availableMemory int64
	// active counts the tasks on the node that are still wanted (desired running, or complete for jobs).
	active          int
	activeByService map[string]int
	usedHostPorts   map[hostPort]bool
	// recentFailures holds, per service, the times tasks failed or were rejected on the node.
	recentFailures map[string][]time.Time
}

func newNodeInfo(n *store.Node) *nodeInfo {
	return &nodeInfo{
		node:            n,
		availableCPU:    n.Description.Resources.NanoCPUs,
		availableMemory: n.Description.Resources.MemoryBytes,
		activeByService: map[string]int{},
		usedHostPorts:   map[hostPort]bool{},
		recentFailures:  map[string][]time.Time{},
	}
}

// consumes reports whether a task holds resources on its node: it was assigned there (or confirmed on
// its preassigned node) and has not finished.
func consumes(t *store.Task) bool {
	return t.NodeID != "" && !taskstate.Before(t.Status.State, swarm.TaskStateAssigned) &&
		taskstate.AtMost(t.Status.State, swarm.TaskStateRunning)
}

// reservations gives a task's reserved CPU and memory.
func reservations(spec *swarm.TaskSpec) (cpu, mem int64) {
	if spec.Resources == nil || spec.Resources.Reservations == nil {
		return 0, 0
	}
	return spec.Resources.Reservations.NanoCPUs, spec.Resources.Reservations.MemoryBytes
}

// hostPorts gives the host-mode ports with a fixed published port a service's tasks bind.
func hostPorts(svc *store.Service) []hostPort {
	if svc == nil {
		return nil
	}
	var out []hostPort
	ports := svc.Endpoint.Ports
	if len(ports) == 0 && svc.Spec.EndpointSpec != nil {
		ports = svc.Spec.EndpointSpec.Ports
	}
	for _, p := range ports {
		if p.PublishMode == swarm.PortConfigPublishModeHost && p.PublishedPort != 0 {
			proto := p.Protocol
			if proto == "" {
				proto = swarm.PortConfigProtocolTCP
			}
			out = append(out, hostPort{protocol: proto, port: p.PublishedPort})
		}
	}
	return out
}

// addTask accounts for a task placed on the node.
func (ni *nodeInfo) addTask(t *store.Task, svc *store.Service) {
	cpu, mem := reservations(&t.Spec)
	ni.availableCPU -= cpu
	ni.availableMemory -= mem
	if wanted(t) {
		ni.active++
		ni.activeByService[t.ServiceID]++
	}
	for _, p := range hostPorts(svc) {
		ni.usedHostPorts[p] = true
	}
}

// addFailure records a task of a service that failed on the node.
func (ni *nodeInfo) addFailure(t *store.Task, now time.Time) {
	if t.Status.State != swarm.TaskStateFailed && t.Status.State != swarm.TaskStateRejected {
		return
	}
	if now.Sub(t.Status.Timestamp) > failureWindow {
		return
	}
	ni.recentFailures[t.ServiceID] = append(ni.recentFailures[t.ServiceID], t.Status.Timestamp)
}

func (ni *nodeInfo) failures(serviceID string) int { return len(ni.recentFailures[serviceID]) }
