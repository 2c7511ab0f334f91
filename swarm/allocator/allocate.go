package allocator

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/store"
	"github.com/shoal-project/shoal/swarm/taskstate"
)

// Names and values Docker shows on allocated objects.
const (
	MessagePending   = "pending task scheduling"
	MessageShutdown  = "shutdown"
	OverlayDriver    = "overlay"
	DefaultIPAM      = "default"
	VXLANIDOption    = "com.docker.network.driver.overlay.vxlanid_list"
	FirstVNI         = 4096
	MaxVNI           = 1<<24 - 1
	errNoIngress     = "service needs ingress network, but no ingress network is present"
	errPoolExhausted = "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network"
)

// Input is the snapshot the allocator decides from. Its objects are read-only.
type Input struct {
	Cluster  *store.Cluster // nil: the default address pool
	Networks []*store.Network
	Services []*store.Service
	Tasks    []*store.Task
	Nodes    []*store.Node
	Now      time.Time
}

// Result holds changed copies of the objects to write, in ID order, and what could not be allocated.
type Result struct {
	Networks []*store.Network
	Services []*store.Service
	Tasks    []*store.Task
	Nodes    []*store.Node
	// Problems name objects that could not be allocated and why (for the log); they are tried again
	// on the next pass.
	Problems []string
}

// Allocate allocates what the snapshot lacks: networks first (a network allocated in this pass serves
// services and tasks from the next pass, once the store holds it), then service endpoints, then the
// network attachments of NEW tasks, which move to PENDING, then every node's own address on the
// ingress network (Node.IngressAddr). A NEW task no longer wanted moves to SHUTDOWN without
// allocation.
func Allocate(in Input) Result {
	a := newAllocation(in)
	var res Result
	for _, n := range sortedNetworks(in.Networks) {
		if nn, err := a.allocateNetwork(n); err != nil {
			res.Problems = append(res.Problems, fmt.Sprintf("network %s: %v", n.ID, err))
		} else if nn != nil {
			res.Networks = append(res.Networks, nn)
		}
	}
	a.reserveInUse(in)
	keepNodeAddrs := a.reserveNodeAddrs(in.Nodes)

	services := map[string]*store.Service{}
	ready := map[string]bool{}
	for _, s := range sortedServices(in.Services) {
		services[s.ID] = s
		if s.PendingDelete {
			continue
		}
		ns, err := a.allocateService(s)
		if err != nil {
			res.Problems = append(res.Problems, fmt.Sprintf("service %s: %v", s.ID, err))
			continue
		}
		if ns != nil {
			res.Services = append(res.Services, ns)
			services[s.ID] = ns
		}
		ready[s.ID] = true
	}

	for _, t := range sortedTasks(in.Tasks) {
		if t.Status.State != swarm.TaskStateNew {
			continue
		}
		if taskstate.After(t.DesiredState, swarm.TaskStateComplete) {
			nt := t.Copy()
			nt.Status = swarm.TaskStatus{State: swarm.TaskStateShutdown, Timestamp: in.Now, Message: MessageShutdown}
			res.Tasks = append(res.Tasks, nt)
			continue
		}
		svc := services[t.ServiceID]
		if t.ServiceID != "" && (svc == nil || !ready[t.ServiceID]) {
			continue
		}
		nt, err := a.allocateTask(t, svc, in.Now)
		if err != nil {
			res.Problems = append(res.Problems, fmt.Sprintf("task %s: %v", t.ID, err))
			continue
		}
		res.Tasks = append(res.Tasks, nt)
	}
	nodes, problems := a.allocateNodes(in.Nodes, keepNodeAddrs)
	res.Nodes = nodes
	res.Problems = append(res.Problems, problems...)
	return res
}

// allocation is the state of one pass: what is in use, derived from the snapshot.
type allocation struct {
	subnets    *subnetAllocator
	subnetErr  error
	vnis       map[uint32]bool
	networks   map[string]*store.Network // allocated networks of the snapshot, by ID
	byName     map[string]*store.Network
	ingress    *store.Network       // the allocated ingress network
	hasIngress bool                 // an ingress network exists, allocated or not
	pools      map[string]*addrPool // by network ID
	claimed    []netip.Prefix       // user subnets of networks allocated in this pass
	ports      portSet
}

func newAllocation(in Input) *allocation {
	a := &allocation{
		vnis:     map[uint32]bool{},
		networks: map[string]*store.Network{},
		byName:   map[string]*store.Network{},
		pools:    map[string]*addrPool{},
		ports:    portSet{used: map[portKey]*store.Service{}},
	}
	var pools []string
	var size uint32
	if in.Cluster != nil {
		pools, size = in.Cluster.DefaultAddrPool, in.Cluster.SubnetSize
	}
	a.subnets, a.subnetErr = newSubnetAllocator(pools, size)
	for _, n := range in.Networks {
		if n.Spec.Ingress {
			a.hasIngress = true
		}
		if n.VNI != 0 {
			a.vnis[n.VNI] = true
		}
		if a.subnets != nil {
			for _, p := range subnetsOf(n) {
				a.subnets.take(p)
			}
		}
		if !isOverlay(n) { // host or bridge: nothing to allocate, tasks attach as they are
			a.networks[n.ID] = n
			a.byName[strings.ToLower(n.Spec.Name)] = n
		}
		if allocated(n) {
			a.networks[n.ID] = n
			a.byName[strings.ToLower(n.Spec.Name)] = n
			if n.Spec.Ingress {
				a.ingress = n
			}
			cfg, ok := ipv4Config(n.IPAMOptions)
			if ok {
				if p, err := newAddrPool(cfg.subnet, cfg.ipRange, cfg.gateway); err == nil {
					a.pools[n.ID] = p
				}
			}
		}
	}
	return a
}

func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

func sortedNetworks(in []*store.Network) []*store.Network {
	out := append([]*store.Network(nil), in...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func sortedServices(in []*store.Service) []*store.Service {
	out := append([]*store.Service(nil), in...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func sortedTasks(in []*store.Task) []*store.Task {
	out := append([]*store.Task(nil), in...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
