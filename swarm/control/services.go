package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/store"
	"github.com/shoal-project/shoal/swarm/taskstate"
)

// GetServices lists the services that pass the filters (name and id are prefixes, label, mode,
// runtime), with their task counts when opts.Status is set.
func (c *Cluster) GetServices(ctx context.Context, opts swarm.ServiceListOptions) ([]swarm.Service, error) {
	st, err := c.managerStore()
	if err != nil {
		return nil, err
	}
	f := opts.Filters
	if err := validateFilters(f, serviceFilterKeys); err != nil {
		return nil, err
	}
	runtimes := f.Get("runtime")
	if len(runtimes) == 0 {
		runtimes = []string{string(swarm.RuntimeContainer)}
	}
	labels := newLabelFilter(f.Get("label"))
	out := []swarm.Service{}
	st.View(func(tx store.ReadTx) {
		for _, s := range liveServices(tx) {
			if !hasPrefixIn(s.Spec.Name, f.Get("name")) || !hasPrefixIn(s.ID, f.Get("id")) ||
				!labels.match(s.Spec.Labels) || !isIn(serviceRuntime(&s.Spec), runtimes) {
				continue
			}
			if f.Contains("mode") && !f.ExactMatch("mode", serviceMode(&s.Spec)) {
				continue
			}
			svc := s.Service
			if opts.Status {
				svc.ServiceStatus = serviceStatus(s, tx.TasksByService(s.ID))
			}
			out = append(out, svc)
		}
	})
	return out, nil
}

// serviceMode is the name the mode filter matches.
func serviceMode(s *swarm.ServiceSpec) string {
	switch {
	case s.Mode.Global != nil:
		return "global"
	case s.Mode.ReplicatedJob != nil:
		return "replicated-job"
	case s.Mode.GlobalJob != nil:
		return "global-job"
	}
	return "replicated"
}

func serviceRuntime(s *swarm.ServiceSpec) string {
	return taskRuntime(&s.TaskTemplate)
}

// serviceStatus counts a service's tasks as swarmkit's ListServiceStatuses does: running tasks,
// desired tasks (replicas, MaxConcurrent for replicated jobs, or the tasks meant to run for global
// modes) and, for jobs, completed tasks of the current job iteration.
func serviceStatus(s *store.Service, tasks []*store.Task) *swarm.ServiceStatus {
	st := &swarm.ServiceStatus{}
	global := false
	switch m := s.Spec.Mode; {
	case m.Replicated != nil && m.Replicated.Replicas != nil:
		st.DesiredTasks = *m.Replicated.Replicas
	case m.ReplicatedJob != nil && m.ReplicatedJob.MaxConcurrent != nil:
		st.DesiredTasks = *m.ReplicatedJob.MaxConcurrent
	case m.Global != nil, m.GlobalJob != nil:
		global = true
	}
	for _, t := range tasks {
		if s.JobStatus != nil {
			if t.JobIteration == nil || t.JobIteration.Index != s.JobStatus.JobIteration.Index {
				continue
			}
			if t.Status.State == swarm.TaskStateComplete {
				st.CompletedTasks++
			}
		}
		if t.Status.State == swarm.TaskStateRunning {
			st.RunningTasks++
		}
		if global && t.DesiredState == swarm.TaskStateRunning {
			st.DesiredTasks++
		}
		if global && t.Status.State != swarm.TaskStateComplete && t.DesiredState == swarm.TaskStateComplete {
			st.DesiredTasks++
		}
	}
	return st
}

// GetService finds a service by ID, name or ID prefix; with insertDefaults its spec has swarmkit's
// defaults filled in.
func (c *Cluster) GetService(ctx context.Context, ref string, withDefaults bool) (swarm.Service, error) {
	st, err := c.managerStore()
	if err != nil {
		return swarm.Service{}, err
	}
	var s *store.Service
	st.View(func(tx store.ReadTx) { s, err = resolveService(tx, ref) })
	if err != nil {
		return swarm.Service{}, err
	}
	if !withDefaults {
		return s.Service, nil
	}
	s = s.Copy()
	insertDefaults(&s.Spec)
	return s.Service, nil
}

// CreateService checks a spec as Docker does, fills what Docker fills, and stores the new service in
// one write. The orchestrator makes its tasks.
func (c *Cluster) CreateService(ctx context.Context, spec swarm.ServiceSpec, encodedRegistryAuth string, queryRegistry bool) (*swarm.ServiceCreateResponse, error) {
	st, err := c.managerStore()
	if err != nil {
		return nil, err
	}
	spec = copySpec(spec)
	resp := &swarm.ServiceCreateResponse{}
	var id string
	err = st.Update(ctx, func(tx store.Tx) error {
		if err := resolveServiceNetworks(tx, &spec); err != nil {
			return err
		}
		if err := normalizeServiceSpec(&spec); err != nil {
			return err
		}
		if err := validateServiceSpec(&spec); err != nil {
			return err
		}
		if err := checkServiceNetworks(tx, &spec); err != nil {
			return err
		}
		if err := checkPortConflicts(tx, spec.EndpointSpec, ""); err != nil {
			return err
		}
		if err := checkIngressPresent(tx, &spec); err != nil {
			return err
		}
		if err := checkReferencedObjects(tx, spec.TaskTemplate.ContainerSpec); err != nil {
			return err
		}
		s := &store.Service{SpecVersion: 1}
		s.ID = store.NewID()
		s.Spec = spec
		if isJob(&spec) {
			s.JobStatus = &swarm.JobStatus{LastExecution: tx.Now()}
		}
		setRegistryAuth(s, encodedRegistryAuth)
		id = s.ID
		return tx.Create(s)
	})
	if err != nil {
		return nil, serviceWriteError(err, spec.Name)
	}
	resp.ID = id
	if queryRegistry {
		resp.Warnings = pinWarnings(spec.TaskTemplate.ContainerSpec.Image)
	}
	return resp, nil
}

// UpdateService replaces a service's spec (version must be the one read), or with
// opts.Rollback == "previous" swaps its previous spec back in. The orchestrator rolls the tasks.
func (c *Cluster) UpdateService(ctx context.Context, ref string, version uint64, spec swarm.ServiceSpec, opts swarm.ServiceUpdateOptions, queryRegistry bool) (*swarm.ServiceUpdateResponse, error) {
	st, err := c.managerStore()
	if err != nil {
		return nil, err
	}
	spec = copySpec(spec)
	err = st.Update(ctx, func(tx store.Tx) error {
		if err := resolveServiceNetworks(tx, &spec); err != nil {
			return err
		}
		if err := normalizeServiceSpec(&spec); err != nil {
			return err
		}
		cur, err := resolveService(tx, ref)
		if err != nil {
			return err
		}
		auth := opts.EncodedRegistryAuth
		if auth == "" {
			switch opts.RegistryAuthFrom {
			case swarm.RegistryAuthFromSpec, "":
				auth = registryAuth(cur, false)
			case swarm.RegistryAuthFromPreviousSpec:
				if cur.PreviousSpec == nil {
					return systemError("service does not have a previous spec")
				}
				auth = registryAuth(cur, true)
			default:
				return systemError("unsupported registryAuthFrom value")
			}
		}
		var rollback bool
		switch opts.Rollback {
		case "", "none":
		case "previous":
			rollback = true
		default:
			return systemError("unrecognized rollback option %s", opts.Rollback)
		}

		if err := validateServiceSpec(&spec); err != nil {
			return err
		}
		if err := checkServiceNetworks(tx, &spec); err != nil {
			return err
		}
		if spec.EndpointSpec != nil && !sameJSON(spec.EndpointSpec, cur.Spec.EndpointSpec) {
			if err := checkPortConflicts(tx, spec.EndpointSpec, cur.ID); err != nil {
				return err
			}
		}
		//nolint:staticcheck // the deprecated Networks field is compared as swarmkit does.
		if (len(spec.Networks) != 0 || len(cur.Spec.Networks) != 0) &&
			!sameJSON(spec.Networks, cur.Spec.Networks) &&
			sameJSON(spec.TaskTemplate.Networks, cur.Spec.TaskTemplate.Networks) {
			return rpcError(codeUnimplemented, "networks must be migrated to TaskSpec before being changed")
		}
		if err := checkReferencedObjects(tx, spec.TaskTemplate.ContainerSpec); err != nil {
			return err
		}
		if serviceMode(&cur.Spec) != serviceMode(&spec) {
			return rpcError(codeUnimplemented, "service mode change is not allowed")
		}
		if cur.Spec.Name != spec.Name {
			return rpcError(codeUnimplemented, "renaming services is not supported")
		}

		s := cur.Copy()
		s.Version.Index = version
		now := tx.Now()
		if s.JobStatus != nil {
			s.JobStatus.JobIteration.Index++
			s.JobStatus.LastExecution = now
		}
		if rollback {
			if s.PreviousSpec == nil {
				return rpcError(codeFailedPrecondition, "service %s does not have a previous spec", s.ID)
			}
			curSpec := s.Spec
			s.Spec = *s.PreviousSpec
			s.PreviousSpec = &curSpec
			// the tasks of the previous spec are up to date again: swap the versions too
			s.SpecVersion, s.PreviousSpecVersion = s.PreviousSpecVersion, s.SpecVersion
			if s.SpecVersion == 0 {
				s.SpecVersion = nextSpecVersion(s)
			}
			s.UpdateStatus = &swarm.UpdateStatus{
				State:     swarm.UpdateStateRollbackStarted,
				StartedAt: &now,
				Message:   "manually requested rollback",
			}
			swapRegistryAuth(s)
		} else {
			prev := s.Spec
			s.PreviousSpec = &prev
			s.PreviousSpecVersion = s.SpecVersion
			if tasksDiffer(&spec, &prev) {
				s.SpecVersion = nextSpecVersion(s)
			}
			s.Spec = spec
			s.UpdateStatus = nil
			shiftRegistryAuth(s, auth)
		}
		if err := checkIngressPresent(tx, &s.Spec); err != nil {
			return err
		}
		s.UpdatedAt = now
		return tx.Update(s)
	})
	if errors.Is(err, store.ErrNotExist) {
		return nil, rpcError(codeNotFound, "service %s not found", ref)
	}
	if err != nil {
		return nil, serviceWriteError(err, spec.Name)
	}
	resp := &swarm.ServiceUpdateResponse{}
	if queryRegistry && opts.Rollback != "previous" {
		resp.Warnings = pinWarnings(spec.TaskTemplate.ContainerSpec.Image)
	}
	return resp, nil
}

// nextSpecVersion is a spec version the service has never had: versions only grow, so a version
// number never comes back after a rollback and makes stale tasks look current.
func nextSpecVersion(s *store.Service) uint64 {
	return max(s.SpecVersion, s.PreviousSpecVersion) + 1
}

// tasksDiffer reports whether two specs make different tasks: their task template, endpoint or
// (deprecated) networks differ. Only such a change moves SpecVersion, so the tasks of a service that is
// scaled or relabelled stay up to date (_up-to-date) and are not replaced.
func tasksDiffer(a, b *swarm.ServiceSpec) bool {
	//nolint:staticcheck // the deprecated Networks field still places tasks on networks.
	return !sameJSON(&a.TaskTemplate, &b.TaskTemplate) || !sameJSON(a.EndpointSpec, b.EndpointSpec) ||
		!sameJSON(a.Networks, b.Networks)
}

// RemoveService deletes a service in one write. Its tasks stay in the store: the orchestrator sees the
// Delete event, sets their desired state to remove, and the reaper deletes them once they are down.
func (c *Cluster) RemoveService(ctx context.Context, ref string) error {
	st, err := c.managerStore()
	if err != nil {
		return err
	}
	err = st.Update(ctx, func(tx store.Tx) error {
		cur, err := resolveService(tx, ref)
		if err != nil {
			return err
		}
		// Its tasks are told to go in the same write, as the orchestrator would (so that its
		// networks are free at once, for `docker stack rm`); the reaper deletes the service once
		// they are gone.
		s := cur.Copy()
		s.PendingDelete = true
		s.UpdatedAt = tx.Now()
		if err := tx.Update(s); err != nil {
			return err
		}
		for _, t := range tx.TasksByService(s.ID) {
			if taskstate.Terminal(t.Status.State) || !taskstate.Before(t.DesiredState, swarm.TaskStateRemove) {
				continue
			}
			c := t.Copy()
			c.DesiredState = swarm.TaskStateRemove
			c.UpdatedAt = tx.Now()
			if err := tx.Update(c); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, store.ErrNotExist) {
		return rpcError(codeNotFound, "service %s not found", ref)
	}
	return storeError(err)
}

// serviceWriteError maps a failed service write: a name taken by another service is swarmkit's
// AlreadyExists text (kept "for backward-compatibility with older consumers ... performing
// string-matching"); other store errors go through storeError.
func serviceWriteError(err error, name string) error {
	if errors.Is(err, store.ErrNameConflict) {
		return rpcError(codeAlreadyExists, "%s: service %s already exists", store.ErrNameConflict.Error(), name)
	}
	return storeError(err)
}

// pinWarnings is what Docker answers a client (API < 1.30) that asks the daemon to pin the image to a
// digest when it cannot reach the registry: shoal's manager never queries registries, so an image
// that is not pinned already gets Docker's warning.
func pinWarnings(image string) []string {
	ref, err := reference.ParseAnyReference(image)
	if err == nil {
		if _, ok := ref.(reference.Digested); ok {
			return nil
		}
	}
	return []string{fmt.Sprintf("image %s could not be accessed on a registry to record\nits digest. Each node will access %s independently,\npossibly leading to different nodes running different\nversions of the image.\n", image, image)}
}

// copySpec gives the control layer its own copy of a request spec (the caller's maps and slices are
// not touched).
func copySpec(s swarm.ServiceSpec) swarm.ServiceSpec {
	b, err := json.Marshal(s)
	if err != nil {
		panic("control: copy spec: " + err.Error())
	}
	var out swarm.ServiceSpec
	if err := json.Unmarshal(b, &out); err != nil {
		panic("control: copy spec: " + err.Error())
	}
	return out
}

// sameJSON compares two values by their JSON form, so nil and empty collections compare equal the way
// they read back.
func sameJSON(a, b any) bool {
	if reflect.DeepEqual(a, b) {
		return true
	}
	ja, erra := json.Marshal(a)
	jb, errb := json.Marshal(b)
	return erra == nil && errb == nil && string(ja) == string(jb)
}

// Docker keeps the X-Registry-Auth of a service with its spec (swarmkit's
// ContainerSpec.PullOptions.RegistryAuth), for the current and the previous spec, and hands it to the
// agents that pull the image.

// setRegistryAuth records the auth of a new service's spec.
func setRegistryAuth(s *store.Service, auth string) { s.RegistryAuth = auth }

// shiftRegistryAuth records the auth of an updated spec; the old one becomes the previous spec's.
func shiftRegistryAuth(s *store.Service, auth string) {
	s.PreviousRegistryAuth, s.RegistryAuth = s.RegistryAuth, auth
}

// swapRegistryAuth swaps the current and previous auth, as a rollback swaps the specs.
func swapRegistryAuth(s *store.Service) {
	s.RegistryAuth, s.PreviousRegistryAuth = s.PreviousRegistryAuth, s.RegistryAuth
}

// registryAuth is the auth recorded for the current (or previous) spec.
func registryAuth(s *store.Service, previous bool) string {
	if previous {
		return s.PreviousRegistryAuth
	}
	return s.RegistryAuth
}
