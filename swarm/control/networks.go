package control

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/swarm/store"
	"github.com/shoal-project/shoal/swarm/taskstate"
)

const (
	overlayDriver = "overlay"
	// labelPredefined marks swarm networks the swarm made itself; they are never listed or removed.
	labelPredefined = "com.docker.swarm.predefined"
	// labelInternal marks the legacy ingress network.
	labelInternal = "com.docker.swarm.internal"
	// optionVXLANIDs is the driver option that reports an overlay network's VNI.
	optionVXLANIDs = "com.docker.network.driver.overlay.vxlanid_list"
)

// isPredefinedName reports the names of the local networks every engine has (Docker's IsPredefined).
func isPredefinedName(name string) bool {
	switch name {
	case "bridge", "host", "none", "default":
		return true
	}
	return false
}

// isIngress reports whether n is the routing-mesh network.
func isIngress(n *store.Network) bool {
	if n.Spec.Ingress {
		return true
	}
	_, ok := n.Spec.Labels[labelInternal]
	return ok && n.Spec.Name == "ingress"
}

// ingressNetwork is the swarm's ingress network, or nil.
func ingressNetwork(tx store.ReadTx) *store.Network {
	for _, n := range tx.ListNetworks() {
		if isIngress(n) {
			return n
		}
	}
	return nil
}

// GetNetworks lists the swarm networks that pass the filters, as network.Inspect values.
func (c *Cluster) GetNetworks(ctx context.Context, f filters.Args) ([]network.Inspect, error) {
	st, err := c.managerStore()
	if err != nil {
		return nil, err
	}
	if err := validateFilters(f, networkFilterKeys); err != nil {
		return nil, err
	}
	danglingOnly, useDangling, err := danglingFilter(f)
	if err != nil {
		return nil, err
	}
	for _, t := range f.Get("type") {
		if t != "builtin" && t != "custom" {
			return nil, invalidParam("invalid filter: 'type'='%s'", t)
		}
	}
	out := []network.Inspect{}
	st.View(func(tx store.ReadTx) {
		for _, n := range tx.ListNetworks() {
			if n.Spec.Labels[labelPredefined] == "true" {
				continue
			}
			nw := networkInspect(n)
			if !networkMatches(f, nw) {
				continue
			}
			// Swarm networks list no containers and are never predefined, so they are all dangling
			// and all custom.
			if useDangling && !danglingOnly {
				continue
			}
			if f.Contains("type") && !f.ExactMatch("type", "custom") {
				continue
			}
			out = append(out, nw)
		}
	})
	return out, nil
}

func networkMatches(f filters.Args, nw network.Inspect) bool {
	if f.Contains("name") && !isIn(nw.Name, f.Get("name")) {
		return false
	}
	if f.Contains("id") && (!hasPrefixIn(nw.ID, f.Get("id")) || !f.Match("id", nw.ID)) {
		return false
	}
	if f.Contains("driver") && !f.ExactMatch("driver", nw.Driver) {
		return false
	}
	if f.Contains("label") && !f.MatchKVList("label", nw.Labels) {
		return false
	}
	if f.Contains("scope") && !f.ExactMatch("scope", nw.Scope) {
		return false
	}
	return true
}

func danglingFilter(f filters.Args) (danglingOnly, set bool, err error) {
	values := f.Get("dangling")
	if len(values) == 0 {
		return false, false, nil
	}
	if len(values) > 1 {
		return false, false, invalidParam(`got more than one value for filter key "dangling"`)
	}
	switch values[0] {
	case "0", "false":
		return false, true, nil
	case "1", "true":
		return true, true, nil
	}
	return false, false, invalidParam(`invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")`)
}

// GetNetwork finds a swarm network by ID, name or ID prefix.
func (c *Cluster) GetNetwork(ctx context.Context, ref string) (network.Inspect, error) {
	st, err := c.managerStore()
	if err != nil {
		return network.Inspect{}, err
	}
	var n *store.Network
	st.View(func(tx store.ReadTx) { n, err = resolveNetwork(tx, ref) })
	if err != nil {
		return network.Inspect{}, err
	}
	return networkInspect(n), nil
}

// networkInspect is the Engine API view of a swarm network, as Docker's BasicNetworkFromGRPC makes
// it. IPAM shows what the allocator assigned, or the requested configuration until it has.
func networkInspect(n *store.Network) network.Inspect {
	nw := network.Inspect{
		Name:       n.Spec.Name,
		ID:         n.ID,
		Created:    n.CreatedAt,
		Scope:      "swarm",
		Driver:     n.DriverState.Name,
		EnableIPv4: true,
		EnableIPv6: n.Spec.IPv6Enabled,
		Internal:   n.Spec.Internal,
		Attachable: n.Spec.Attachable,
		Ingress:    isIngress(n),
	}
	if nw.Driver == "" && n.Spec.DriverConfiguration != nil {
		nw.Driver = n.Spec.DriverConfiguration.Name
	}
	if len(n.Spec.Labels) > 0 {
		nw.Labels = n.Spec.Labels
	}
	ipam := n.IPAMOptions
	if ipam == nil {
		ipam = n.Spec.IPAMOptions
	}
	if ipam != nil {
		nw.IPAM.Driver = ipam.Driver.Name
		nw.IPAM.Options = ipam.Driver.Options
		nw.IPAM.Config = make([]network.IPAMConfig, 0, len(ipam.Configs))
		for _, c := range ipam.Configs {
			nw.IPAM.Config = append(nw.IPAM.Config, network.IPAMConfig{Subnet: c.Subnet, IPRange: c.Range, Gateway: c.Gateway})
		}
	}
	if n.Spec.ConfigFrom != nil {
		nw.ConfigFrom = network.ConfigReference{Network: n.Spec.ConfigFrom.Network}
	}
	opts := map[string]string{}
	if d := n.Spec.DriverConfiguration; d != nil {
		for k, v := range d.Options {
			opts[k] = v
		}
	}
	for k, v := range n.DriverState.Options {
		opts[k] = v
	}
	if _, ok := opts[optionVXLANIDs]; !ok && n.VNI != 0 {
		opts[optionVXLANIDs] = strconv.FormatUint(uint64(n.VNI), 10)
	}
	if len(opts) > 0 {
		nw.Options = opts
	}
	return nw
}

// CreateNetwork stores a new swarm network with the requested configuration; the allocator assigns
// its subnet (when none was asked for), gateway and VNI.
func (c *Cluster) CreateNetwork(ctx context.Context, req network.CreateRequest) (string, error) {
	if isPredefinedName(req.Name) {
		return "", errdefs.Forbidden(plainError(req.Name + " is a pre-defined network and cannot be created"))
	}
	st, err := c.managerStore()
	if err != nil {
		return "", err
	}
	driver := req.Driver
	if driver == "" {
		driver = overlayDriver
	}
	enableIPv6 := req.EnableIPv6 != nil && *req.EnableIPv6
	var id string
	err = st.Update(ctx, func(tx store.Tx) error {
		if n := tx.FindNetworkByName(req.Name); n != nil && n.Spec.Name == req.Name {
			return errdefs.Conflict(plainError("network with name " + req.Name + " already exists"))
		}
		if err := network.ValidateIPAM(req.IPAM, enableIPv6); err != nil {
			return errdefs.InvalidParameter(err)
		}
		if req.Ingress && driver != overlayDriver {
			return rpcError(codeUnimplemented, "only overlay driver is currently supported for ingress network")
		}
		if req.Attachable && req.Ingress {
			return rpcError(codeInvalidArgument, "ingress network cannot be attachable")
		}
		if err := validateName(req.Name); err != nil {
			return err
		}
		if _, ok := req.Labels[labelPredefined]; ok {
			return rpcError(codePermissionDenied, "label %s is for internally created predefined networks and cannot be applied by users", labelPredefined)
		}
		if driver != overlayDriver {
			return rpcError(codeInvalidArgument, "plugin %s not supported", driver)
		}
		spec := swarm.NetworkSpec{
			Annotations:         swarm.Annotations{Name: req.Name, Labels: req.Labels},
			DriverConfiguration: &swarm.Driver{Name: driver, Options: req.Options},
			IPv6Enabled:         enableIPv6,
			Internal:            req.Internal,
			Attachable:          req.Attachable,
			Ingress:             req.Ingress,
			Scope:               "swarm",
		}
		if req.IPAM != nil {
			ipamDriver := req.IPAM.Driver
			if ipamDriver == "" {
				ipamDriver = "default"
			}
			if !strings.EqualFold(ipamDriver, "default") {
				return rpcError(codeInvalidArgument, "plugin %s not supported", ipamDriver)
			}
			spec.IPAMOptions = &swarm.IPAMOptions{Driver: swarm.Driver{Name: ipamDriver, Options: req.IPAM.Options}}
			for _, c := range req.IPAM.Config {
				if err := validateIPAMConfig(c); err != nil {
					return err
				}
				spec.IPAMOptions.Configs = append(spec.IPAMOptions.Configs, swarm.IPAMConfig{Subnet: c.Subnet, Range: c.IPRange, Gateway: c.Gateway})
			}
		}
		if req.ConfigFrom != nil {
			spec.ConfigFrom = &network.ConfigReference{Network: req.ConfigFrom.Network}
		}
		if req.Ingress {
			if in := ingressNetwork(tx); in != nil {
				return rpcError(codeAlreadyExists, "ingress network (%s) is already present", in.ID)
			}
		}
		n := &store.Network{}
		n.ID = store.NewID()
		n.Spec = spec
		id = n.ID
		return tx.Create(n)
	})
	if errors.Is(err, store.ErrNameConflict) {
		return "", errdefs.Conflict(plainError("network with name " + req.Name + " already exists"))
	}
	if err != nil {
		return "", storeError(err)
	}
	return id, nil
}

// validateIPAMConfig is swarmkit's check of one IPAM pool.
func validateIPAMConfig(c network.IPAMConfig) error {
	_, subnet, err := net.ParseCIDR(c.Subnet)
	if err != nil {
		return rpcError(codeInvalidArgument, "ipam configuration: invalid subnet %s", c.Subnet)
	}
	if c.IPRange != "" {
		ip, _, err := net.ParseCIDR(c.IPRange)
		if err != nil {
			return rpcError(codeInvalidArgument, "ipam configuration: invalid range %s", c.IPRange)
		}
		if !subnet.Contains(ip) {
			return rpcError(codeInvalidArgument, "ipam configuration: subnet %s does not contain range %s", c.Subnet, c.IPRange)
		}
	}
	if c.Gateway != "" {
		ip := net.ParseIP(c.Gateway)
		if ip == nil {
			return rpcError(codeInvalidArgument, "ipam configuration: invalid gateway %s", c.Gateway)
		}
		if !subnet.Contains(ip) {
			return rpcError(codeInvalidArgument, "ipam configuration: subnet %s does not contain gateway %s", c.Subnet, c.Gateway)
		}
	}
	return nil
}

// RemoveNetwork removes a swarm network that no service or running task uses. The ingress network may
// be removed only while no service publishes a port through it.
func (c *Cluster) RemoveNetwork(ctx context.Context, ref string) error {
	st, err := c.managerStore()
	if err != nil {
		return err
	}
	err = st.Update(ctx, func(tx store.Tx) error {
		n, err := resolveNetwork(tx, ref)
		if err != nil {
			return err
		}
		if n.Spec.Labels[labelPredefined] == "true" {
			return rpcError(codeFailedPrecondition, "network %s (%s) is a swarm predefined network and cannot be removed", n.ID, n.Spec.Name)
		}
		if isIngress(n) {
			for _, s := range liveServices(tx) {
				if needsIngress(&s.Spec) {
					return rpcError(codeFailedPrecondition, "ingress network cannot be removed because service %s depends on it", s.ID)
				}
			}
			return tx.Delete(store.KindNetwork, n.ID)
		}
		for _, s := range liveServices(tx) {
			if serviceUsesNetwork(&s.Spec, n.ID) {
				return rpcError(codeFailedPrecondition, "network %s is in use by service %s", n.ID, s.ID)
			}
		}
		for _, t := range tx.ListTasks() {
			if taskUsesNetwork(t, n.ID) && taskstate.AtMost(t.DesiredState, swarm.TaskStateRunning) &&
				taskstate.AtMost(t.Status.State, swarm.TaskStateRunning) {
				return rpcError(codeFailedPrecondition, "network %s is in use by task %s", n.ID, t.ID)
			}
		}
		return tx.Delete(store.KindNetwork, n.ID)
	})
	if errors.Is(err, store.ErrNotExist) {
		return rpcError(codeNotFound, "network %s not found", ref)
	}
	return storeError(err)
}

func serviceUsesNetwork(s *swarm.ServiceSpec, id string) bool {
	//nolint:staticcheck // services made before TaskTemplate.Networks still use Networks.
	for _, list := range [][]swarm.NetworkAttachmentConfig{s.TaskTemplate.Networks, s.Networks} {
		for _, a := range list {
			if a.Target == id {
				return true
			}
		}
	}
	return false
}

func taskUsesNetwork(t *store.Task, id string) bool {
	for _, a := range t.NetworksAttachments {
		if a.Network.ID == id {
			return true
		}
	}
	for _, a := range t.Spec.Networks {
		if a.Target == id {
			return true
		}
	}
	return false
}

// resolveServiceNetworks turns the network targets of a service spec (names, IDs or ID prefixes: stack
// deploy sends names) into network IDs, as Docker does before it converts the spec.
func resolveServiceNetworks(tx store.ReadTx, s *swarm.ServiceSpec) error {
	list := s.TaskTemplate.Networks
	if len(list) == 0 {
		list = s.Networks //nolint:staticcheck // the deprecated field is still honoured.
	}
	for i := range list {
		n, err := resolveNetwork(tx, list[i].Target)
		if err != nil {
			if isPredefinedName(list[i].Target) {
				return errdefs.NotFound(plainError("could not find the corresponding predefined swarm network: network " + list[i].Target + " not found"))
			}
			return err
		}
		list[i].Target = n.ID
	}
	return nil
}

// checkServiceNetworks refuses an explicit attachment to the ingress network.
func checkServiceNetworks(tx store.ReadTx, s *swarm.ServiceSpec) error {
	for _, a := range s.TaskTemplate.Networks {
		if n := tx.GetNetwork(a.Target); n != nil && isIngress(n) {
			return rpcError(codeInvalidArgument, "Service cannot be explicitly attached to the ingress network %q", n.Spec.Name)
		}
	}
	return nil
}
