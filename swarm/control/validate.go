package control

import (
	"regexp"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/scheduler/constraint"
	"github.com/shoal-project/shoal/swarm/store"
)

// The checks of swarmkit's control API, with its texts (rpc errors). They run on a spec that
// normalizeServiceSpec has already made.

var (
	// isValidDNSName is the rule for service and network names.
	isValidDNSName = regexp.MustCompile(`^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$`)
	// isValidConfigOrSecretName is the rule for secret and config names.
	isValidConfigOrSecretName = regexp.MustCompile(`^[a-zA-Z0-9]+(?:[a-zA-Z0-9-_.]*[a-zA-Z0-9])?$`)
)

const minimumDuration = time.Millisecond

func validateName(name string) error {
	if name == "" {
		return rpcError(codeInvalidArgument, "meta: name must be provided")
	}
	if !isValidDNSName.MatchString(name) {
		return rpcError(codeInvalidArgument, "name must be valid as a DNS name component")
	}
	if len(name) > 63 {
		return rpcError(codeInvalidArgument, "name must be 63 characters or fewer")
	}
	return nil
}

func validateSecretOrConfigName(name string) error {
	if name == "" {
		return rpcError(codeInvalidArgument, "name must be provided")
	}
	if len(name) > 64 || !isValidConfigOrSecretName.MatchString(name) {
		return rpcError(codeInvalidArgument, "invalid name, only 64 [a-zA-Z0-9-_.] characters allowed, and the start and end character must be [a-zA-Z0-9]")
	}
	return nil
}

// validateServiceSpec is swarmkit's validateServiceSpec.
func validateServiceSpec(s *swarm.ServiceSpec) error {
	if err := validateName(s.Name); err != nil {
		return err
	}
	if err := validateTaskSpec(&s.TaskTemplate); err != nil {
		return err
	}
	if isJob(s) {
		if s.UpdateConfig != nil {
			return rpcError(codeInvalidArgument, "Jobs may not have an update config")
		}
	} else if err := validateUpdateConfig(s.UpdateConfig); err != nil {
		return err
	}
	return validateEndpointSpec(s.EndpointSpec)
}

func isJob(s *swarm.ServiceSpec) bool {
	return s.Mode.ReplicatedJob != nil || s.Mode.GlobalJob != nil
}

func validateTaskSpec(t *swarm.TaskSpec) error {
	if r := t.Resources; r != nil {
		if l := r.Limits; l != nil {
			if err := validateResources(l.NanoCPUs, l.MemoryBytes); err != nil {
				return err
			}
		}
		if rv := r.Reservations; rv != nil {
			if err := validateResources(rv.NanoCPUs, rv.MemoryBytes); err != nil {
				return err
			}
		}
	}
	if rp := t.RestartPolicy; rp != nil {
		if rp.Delay != nil && *rp.Delay < 0 {
			return rpcError(codeInvalidArgument, "TaskSpec: restart-delay cannot be negative")
		}
		if rp.Window != nil && *rp.Window < 0 {
			return rpcError(codeInvalidArgument, "TaskSpec: restart-window cannot be negative")
		}
	}
	if p := t.Placement; p != nil {
		if _, err := constraint.Parse(p.Constraints); err != nil {
			// swarmkit returns the parser's plain error, which gRPC carries as Unknown (500).
			return rpcError(codeUnknown, "%s", err.Error())
		}
	}
	c := t.ContainerSpec
	if err := validateSecretRefs(c.Secrets); err != nil {
		return err
	}
	if err := validateConfigRefs(c); err != nil {
		return err
	}
	return validateContainerSpec(c)
}

func validateResources(nanoCPUs, memoryBytes int64) error {
	if nanoCPUs != 0 && nanoCPUs < 1e6 {
		return rpcError(codeInvalidArgument, "invalid cpu value %g: Must be at least %g", float64(nanoCPUs)/1e9, 1e6/1e9)
	}
	if memoryBytes != 0 && memoryBytes < 4*1024*1024 {
		return rpcError(codeInvalidArgument, "invalid memory value %d: Must be at least 4MiB", memoryBytes)
	}
	return nil
}

func validateSecretRefs(refs []*swarm.SecretReference) error {
	targets := map[string]string{}
	for _, r := range refs {
		if r.SecretID == "" || r.SecretName == "" {
			return rpcError(codeInvalidArgument, "malformed secret reference")
		}
		if r.File == nil {
			return rpcError(codeInvalidArgument, "malformed secret reference, no target provided")
		}
		if r.File.Name == "" {
			return rpcError(codeInvalidArgument, "malformed file secret reference, invalid target file name provided")
		}
		if prev, ok := targets[r.File.Name]; ok {
			return rpcError(codeInvalidArgument, "secret references '%s' and '%s' have a conflicting target: '%s'", prev, r.SecretName, r.File.Name)
		}
		targets[r.File.Name] = r.SecretName
	}
	return nil
}

func validateConfigRefs(c *swarm.ContainerSpec) error {
	credSpecConfig := ""
	if p := c.Privileges; p != nil && p.CredentialSpec != nil {
		credSpecConfig = p.CredentialSpec.Config
	}
	found := false
	targets := map[string]string{}
	for _, r := range c.Configs {
		if r.ConfigID == "" || r.ConfigName == "" {
			return rpcError(codeInvalidArgument, "malformed config reference")
		}
		if r.File != nil {
			if r.File.Name == "" {
				return rpcError(codeInvalidArgument, "malformed file config reference, invalid target file name provided")
			}
			if prev, ok := targets[r.File.Name]; ok {
				return rpcError(codeInvalidArgument, "config references '%s' and '%s' have a conflicting target: '%s'", prev, r.ConfigName, r.File.Name)
			}
			targets[r.File.Name] = r.ConfigName
		}
		if r.Runtime != nil && r.ConfigID == credSpecConfig {
			found = true
		}
	}
	if credSpecConfig != "" && !found {
		return rpcError(codeInvalidArgument, "CredentialSpec references config '%s', but that config isn't in config references with RuntimeTarget", credSpecConfig)
	}
	return nil
}

func validateContainerSpec(c *swarm.ContainerSpec) error {
	if c.Image == "" {
		return rpcError(codeInvalidArgument, "ContainerSpec: image reference must be provided")
	}
	if _, err := reference.ParseNormalizedNamed(c.Image); err != nil {
		return rpcError(codeInvalidArgument, "ContainerSpec: %q is not a valid repository/tag", c.Image)
	}
	seen := map[string]bool{}
	for _, m := range c.Mounts {
		if seen[m.Target] {
			return rpcError(codeInvalidArgument, "ContainerSpec: duplicate mount point: %s", m.Target)
		}
		seen[m.Target] = true
	}
	return validateHealthcheck(c.Healthcheck)
}

func validateHealthcheck(h *container.HealthConfig) error {
	if h == nil {
		return nil
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"Interval", h.Interval}, {"Timeout", h.Timeout}, {"StartPeriod", h.StartPeriod}} {
		if d.v != 0 && d.v < minimumDuration {
			return rpcError(codeInvalidArgument, "ContainerSpec: %s in HealthConfig cannot be less than %s", d.name, minimumDuration)
		}
	}
	if h.Retries < 0 {
		return rpcError(codeInvalidArgument, "ContainerSpec: Retries in HealthConfig cannot be negative")
	}
	return nil
}

func validateUpdateConfig(uc *swarm.UpdateConfig) error {
	if uc == nil {
		return nil
	}
	if uc.Delay < 0 {
		return rpcError(codeInvalidArgument, "TaskSpec: update-delay cannot be negative")
	}
	if uc.Monitor < 0 {
		return rpcError(codeInvalidArgument, "TaskSpec: update-monitor cannot be negative")
	}
	if uc.MaxFailureRatio < 0 || uc.MaxFailureRatio > 1 {
		return rpcError(codeInvalidArgument, "TaskSpec: update-maxfailureratio cannot be less than 0 or bigger than 1")
	}
	return nil
}

type portKey struct {
	port  uint32
	proto swarm.PortConfigProtocol
}

func validateEndpointSpec(ep *swarm.EndpointSpec) error {
	if ep == nil {
		return nil
	}
	seen := map[portKey]bool{}
	for _, p := range ep.Ports {
		if ep.Mode == swarm.ResolutionModeDNSRR && p.PublishMode == swarm.PortConfigPublishModeIngress {
			return rpcError(codeInvalidArgument, "EndpointSpec: port published with ingress mode can't be used with dnsrr mode")
		}
		if p.PublishedPort == 0 {
			continue
		}
		k := portKey{p.PublishedPort, p.Protocol}
		if seen[k] {
			return rpcError(codeInvalidArgument, "EndpointSpec: duplicate published ports provided")
		}
		seen[k] = true
	}
	return nil
}

// checkPortConflicts refuses published ports that another service already publishes (skipping the
// service self, on update): an ingress port may not be used twice, nor as both ingress and host port.
func checkPortConflicts(tx store.ReadTx, ep *swarm.EndpointSpec, self string) error {
	if ep == nil {
		return nil
	}
	ingress, host := map[portKey]bool{}, map[portKey]bool{}
	for _, p := range ep.Ports {
		if p.PublishedPort == 0 {
			continue
		}
		if p.PublishMode == swarm.PortConfigPublishModeHost {
			host[portKey{p.PublishedPort, p.Protocol}] = true
		} else {
			ingress[portKey{p.PublishedPort, p.Protocol}] = true
		}
	}
	if len(ingress) == 0 && len(host) == 0 {
		return nil
	}
	inUse := func(p swarm.PortConfig, s *store.Service) error {
		if p.PublishedPort == 0 {
			return nil
		}
		k := portKey{p.PublishedPort, protocolOf(p.Protocol)}
		if p.PublishMode == swarm.PortConfigPublishModeHost {
			if ingress[k] {
				return rpcError(codeInvalidArgument, "port '%d' is already in use by service '%s' (%s) as a host-published port", p.PublishedPort, s.Spec.Name, s.ID)
			}
			return nil
		}
		if ingress[k] || host[k] {
			return rpcError(codeInvalidArgument, "port '%d' is already in use by service '%s' (%s) as an ingress port", p.PublishedPort, s.Spec.Name, s.ID)
		}
		return nil
	}
	for _, s := range tx.ListServices() {
		if s.ID == self {
			continue
		}
		var ports []swarm.PortConfig
		if s.Spec.EndpointSpec != nil {
			ports = append(ports, s.Spec.EndpointSpec.Ports...)
		}
		ports = append(ports, s.Endpoint.Ports...)
		for _, p := range ports {
			if err := inUse(p, s); err != nil {
				return err
			}
		}
	}
	return nil
}

func protocolOf(p swarm.PortConfigProtocol) swarm.PortConfigProtocol {
	if p == "" {
		return swarm.PortConfigProtocolTCP
	}
	return p
}

// needsIngress reports whether a service publishes a port through the routing mesh.
func needsIngress(s *swarm.ServiceSpec) bool {
	if s.EndpointSpec == nil {
		return false
	}
	for _, p := range s.EndpointSpec.Ports {
		if p.PublishMode == swarm.PortConfigPublishModeIngress || p.PublishMode == "" {
			return true
		}
	}
	return false
}

// checkIngressPresent refuses a service that publishes through the routing mesh when the swarm has no
// ingress network.
func checkIngressPresent(tx store.ReadTx, s *swarm.ServiceSpec) error {
	if !needsIngress(s) {
		return nil
	}
	if ingressNetwork(tx) == nil {
		return rpcError(codeFailedPrecondition, "service needs ingress network, but no ingress network is present")
	}
	return nil
}

// checkReferencedObjects refuses secret and config references whose ID is unknown or whose name does
// not match the object's.
func checkReferencedObjects(tx store.ReadTx, c *swarm.ContainerSpec) error {
	var missing []string
	for _, r := range c.Secrets {
		if s := tx.GetSecret(r.SecretID); s == nil || s.Spec.Name != r.SecretName {
			missing = append(missing, r.SecretName)
		}
	}
	if len(missing) > 0 {
		return rpcError(codeInvalidArgument, "%s not found: %v", plural(len(missing), "secret"), strings.Join(missing, ", "))
	}
	for _, r := range c.Configs {
		if cfg := tx.GetConfig(r.ConfigID); cfg == nil || cfg.Spec.Name != r.ConfigName {
			missing = append(missing, r.ConfigName)
		}
	}
	if len(missing) > 0 {
		return rpcError(codeInvalidArgument, "%s not found: %v", plural(len(missing), "config"), strings.Join(missing, ", "))
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
