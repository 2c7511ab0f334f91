package control

import (
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/pkg/namesgenerator"
)

// Docker keeps a service spec in swarmkit's form and converts it back on every read, so what a client
// reads is the spec after a round trip: a name is generated when there is none, the runtime is
// "container", empty enum fields read as their first value ("vip", "tcp", "ingress", "any", "pause",
// "stop-first", "bind"...), a missing mode is one replica. normalizeServiceSpec makes that round trip
// once, before the spec is stored, and returns the errors Docker's conversion returns (400, daemon
// texts without the gRPC prefix).
func normalizeServiceSpec(s *swarm.ServiceSpec) error {
	if s.Name == "" {
		s.Name = namesgenerator.GetRandomName(0)
	}
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}

	t := &s.TaskTemplate
	switch t.Runtime {
	case swarm.RuntimeContainer, "":
		if t.ContainerSpec == nil {
			return invalidParam("mismatched Runtime and *Spec fields")
		}
		t.Runtime = swarm.RuntimeContainer
	case swarm.RuntimePlugin:
		if t.PluginSpec == nil {
			return invalidParam("mismatched Runtime and *Spec fields")
		}
		// Docker accepts plugin services only on an experimental daemon; shoal has none.
		return systemError("runtime type %q only supported in experimental", swarm.RuntimePlugin)
	default:
		return invalidParam("unsupported runtime")
	}
	if err := normalizeContainerSpec(t.ContainerSpec); err != nil {
		return err
	}

	if rp := t.RestartPolicy; rp != nil {
		switch rp.Condition {
		case swarm.RestartPolicyConditionNone, swarm.RestartPolicyConditionOnFailure, swarm.RestartPolicyConditionAny:
		case "":
			rp.Condition = swarm.RestartPolicyConditionAny
		default:
			return invalidParam("invalid RestartCondition: %q", rp.Condition)
		}
		if rp.MaxAttempts == nil {
			rp.MaxAttempts = new(uint64)
		}
	}
	for _, uc := range []*swarm.UpdateConfig{s.UpdateConfig, s.RollbackConfig} {
		if err := normalizeUpdateConfig(uc); err != nil {
			return err
		}
	}
	if ep := s.EndpointSpec; ep != nil {
		switch ep.Mode {
		case swarm.ResolutionModeVIP, swarm.ResolutionModeDNSRR:
		case "":
			ep.Mode = swarm.ResolutionModeVIP
		default:
			return invalidParam("invalid resolution mode: %q", ep.Mode)
		}
		for i := range ep.Ports {
			p := &ep.Ports[i]
			// swarmkit's enums read an unknown name as their zero value.
			switch proto := swarm.PortConfigProtocol(strings.ToLower(string(p.Protocol))); proto {
			case swarm.PortConfigProtocolUDP, swarm.PortConfigProtocolSCTP:
				p.Protocol = proto
			default:
				p.Protocol = swarm.PortConfigProtocolTCP
			}
			if strings.ToLower(string(p.PublishMode)) == string(swarm.PortConfigPublishModeHost) {
				p.PublishMode = swarm.PortConfigPublishModeHost
			} else {
				p.PublishMode = swarm.PortConfigPublishModeIngress
			}
		}
	}
	return normalizeMode(&s.Mode)
}

func normalizeMode(m *swarm.ServiceMode) error {
	n := 0
	for _, set := range []bool{m.Global != nil, m.Replicated != nil, m.ReplicatedJob != nil, m.GlobalJob != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return invalidParam("must specify only one service mode")
	}
	switch {
	case m.Global != nil, m.GlobalJob != nil:
	case m.ReplicatedJob != nil:
		j := m.ReplicatedJob
		if j.MaxConcurrent == nil {
			j.MaxConcurrent = uint64Ptr(1)
		}
		if j.TotalCompletions == nil {
			j.TotalCompletions = uint64Ptr(*j.MaxConcurrent)
		}
	case m.Replicated != nil && m.Replicated.Replicas != nil:
	default:
		m.Replicated = &swarm.ReplicatedService{Replicas: uint64Ptr(1)}
	}
	return nil
}

func normalizeUpdateConfig(uc *swarm.UpdateConfig) error {
	if uc == nil {
		return nil
	}
	switch uc.FailureAction {
	case swarm.UpdateFailureActionPause, swarm.UpdateFailureActionContinue, swarm.UpdateFailureActionRollback:
	case "":
		uc.FailureAction = swarm.UpdateFailureActionPause
	default:
		return invalidParam("unrecognized update failure action %s", uc.FailureAction)
	}
	switch uc.Order {
	case swarm.UpdateOrderStopFirst, swarm.UpdateOrderStartFirst:
	case "":
		uc.Order = swarm.UpdateOrderStopFirst
	default:
		return invalidParam("unrecognized update order %s", uc.Order)
	}
	return nil
}

func normalizeContainerSpec(c *swarm.ContainerSpec) error {
	if !c.Isolation.IsHyperV() && !c.Isolation.IsProcess() {
		c.Isolation = container.IsolationDefault
	} else {
		c.Isolation = container.Isolation(strings.ToLower(string(c.Isolation)))
	}
	if p := c.Privileges; p != nil {
		if cs := p.CredentialSpec; cs != nil {
			if err := checkCredentialSpec(cs); err != nil {
				return err
			}
		}
		if p.Seccomp != nil && p.Seccomp.Mode == "" {
			p.Seccomp.Mode = swarm.SeccompModeDefault
		}
		if p.AppArmor != nil && p.AppArmor.Mode == "" {
			p.AppArmor.Mode = swarm.AppArmorModeDefault
		}
	}
	for _, r := range c.Configs {
		switch {
		case r.Runtime == nil && r.File == nil:
			return invalidParam("invalid Config: either File or Runtime should be set")
		case r.Runtime != nil && r.File != nil:
			return invalidParam("invalid Config: cannot specify both File and Runtime")
		}
	}
	for i := range c.Mounts {
		m := &c.Mounts[i]
		switch t := mount.Type(strings.ToLower(string(m.Type))); t {
		case mount.TypeBind, mount.TypeVolume, mount.TypeTmpfs, mount.TypeNamedPipe, mount.TypeCluster:
			m.Type = t
		case "":
			m.Type = mount.TypeBind
		default:
			return invalidParam("invalid MountType: %q", m.Type)
		}
		if b := m.BindOptions; b != nil {
			switch p := mount.Propagation(strings.ToLower(string(b.Propagation))); p {
			case mount.PropagationRPrivate, mount.PropagationPrivate, mount.PropagationRShared,
				mount.PropagationShared, mount.PropagationRSlave, mount.PropagationSlave:
				b.Propagation = p
			case "":
				if !b.NonRecursive && !b.CreateMountpoint && !b.ReadOnlyNonRecursive && !b.ReadOnlyForceRecursive {
					m.BindOptions = nil
				} else {
					b.Propagation = mount.PropagationRPrivate
				}
			default:
				return invalidParam("invalid MountPropagation: %q", b.Propagation)
			}
		}
	}
	return nil
}

func checkCredentialSpec(cs *swarm.CredentialSpec) error {
	var set []string
	if cs.Config != "" {
		set = append(set, `"config"`)
	}
	if cs.File != "" {
		set = append(set, `"file"`)
	}
	if cs.Registry != "" {
		set = append(set, `"registry"`)
	}
	switch l := len(set); {
	case l == 0:
		return invalidParam(`invalid CredentialSpec: must either provide "file", "registry", or "config" for credential spec`)
	case l == 2:
		return invalidParam("invalid CredentialSpec: cannot specify both %s and %s credential specs", set[0], set[1])
	case l > 2:
		return invalidParam("invalid CredentialSpec: cannot specify both %s, and %s credential specs", strings.Join(set[:l-1], ", "), set[l-1])
	}
	return nil
}

// The defaults swarmkit fills in when a client asks for them (GET /services/{id}?insertDefaults=true).
const (
	defaultStopGracePeriod = 10 * time.Second
	defaultRestartDelay    = 5 * time.Second
	defaultMonitor         = 5 * time.Second
)

func defaultUpdateConfig() *swarm.UpdateConfig {
	return &swarm.UpdateConfig{
		Parallelism:   1,
		FailureAction: swarm.UpdateFailureActionPause,
		Monitor:       defaultMonitor,
		Order:         swarm.UpdateOrderStopFirst,
	}
}

// insertDefaults fills in the unset parts of a stored spec with swarmkit's defaults, as
// defaults.InterpolateService does. s must be the caller's own copy.
func insertDefaults(s *swarm.ServiceSpec) {
	t := &s.TaskTemplate
	if c := t.ContainerSpec; c != nil {
		if c.StopGracePeriod == nil {
			d := defaultStopGracePeriod
			c.StopGracePeriod = &d
		}
		if c.DNSConfig == nil {
			c.DNSConfig = &swarm.DNSConfig{}
		}
	}
	if t.Resources == nil {
		t.Resources = &swarm.ResourceRequirements{}
	}
	if t.RestartPolicy == nil {
		t.RestartPolicy = &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionAny, MaxAttempts: new(uint64)}
	}
	if t.RestartPolicy.Delay == nil {
		d := defaultRestartDelay
		t.RestartPolicy.Delay = &d
	}
	if t.Placement == nil {
		t.Placement = &swarm.Placement{}
	}
	if s.UpdateConfig == nil {
		s.UpdateConfig = defaultUpdateConfig()
	} else if s.UpdateConfig.Monitor == 0 {
		s.UpdateConfig.Monitor = defaultMonitor
	}
	if s.RollbackConfig == nil {
		s.RollbackConfig = defaultUpdateConfig()
	} else if s.RollbackConfig.Monitor == 0 {
		s.RollbackConfig.Monitor = defaultMonitor
	}
}

func uint64Ptr(v uint64) *uint64 { return &v }
