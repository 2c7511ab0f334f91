package routes

import (
	"net/http"

	"github.com/docker/docker/api/types/backend"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/versions"
	"github.com/go-chi/chi/v5"
)

func (s *server) getServices(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFilters(r, serviceFilters)
	if err != nil {
		return err
	}
	// ?status is honoured from API 1.41 on and ignored before.
	var status bool
	if !versions.LessThan(s.apiVersion(r), "1.41") {
		if status, err = strictBool(r, "status"); err != nil {
			return err
		}
	}
	list, err := s.Cluster.GetServices(r.Context(), swarm.ServiceListOptions{Filters: f, Status: status})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(list))
}

func (s *server) getService(w http.ResponseWriter, r *http.Request) error {
	insertDefaults, err := strictBool(r, "insertDefaults")
	if err != nil {
		return err
	}
	svc, err := s.Cluster.GetService(r.Context(), chi.URLParam(r, "id"), insertDefaults)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, svc)
}

// createService answers 201 {"ID": ..., "Warnings": ...}.
func (s *server) createService(w http.ResponseWriter, r *http.Request) error {
	var spec swarm.ServiceSpec
	if err := readJSON(r, &spec); err != nil {
		return err
	}
	v := s.apiVersion(r)
	adjustServiceSpec(v, &spec)
	queryRegistry := versions.LessThan(v, "1.30")
	resp, err := s.Cluster.CreateService(r.Context(), spec, r.Header.Get(registry.AuthHeader), queryRegistry)
	if err != nil {
		return err
	}
	if resp == nil {
		resp = &swarm.ServiceCreateResponse{}
	}
	return writeJSON(w, http.StatusCreated, resp)
}

func (s *server) updateService(w http.ResponseWriter, r *http.Request) error {
	var spec swarm.ServiceSpec
	if err := readJSON(r, &spec); err != nil {
		return err
	}
	version, err := objectVersion(r, "service")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	opts := swarm.ServiceUpdateOptions{
		EncodedRegistryAuth: r.Header.Get(registry.AuthHeader),
		RegistryAuthFrom:    q.Get("registryAuthFrom"),
		Rollback:            q.Get("rollback"),
	}
	v := s.apiVersion(r)
	adjustServiceSpec(v, &spec)
	queryRegistry := versions.LessThan(v, "1.30")
	resp, err := s.Cluster.UpdateService(r.Context(), chi.URLParam(r, "id"), version, spec, opts, queryRegistry)
	if err != nil {
		return err
	}
	if resp == nil {
		resp = &swarm.ServiceUpdateResponse{}
	}
	return writeJSON(w, http.StatusOK, resp)
}

// removeService answers 200 with an empty body, as dockerd.
func (s *server) removeService(w http.ResponseWriter, r *http.Request) error {
	return s.Cluster.RemoveService(r.Context(), chi.URLParam(r, "id"))
}

func (s *server) getServiceLogs(w http.ResponseWriter, r *http.Request) error {
	return s.swarmLogs(w, r, &backend.LogSelector{Services: []string{chi.URLParam(r, "id")}})
}

// swarmLogs streams the logs of services or tasks. Everything is checked before the first byte, since
// the status cannot change once the stream has started.
func (s *server) swarmLogs(w http.ResponseWriter, r *http.Request, sel *backend.LogSelector) error {
	opts := logsOptions(r)
	opts.Until = "" // not supported for swarm logs
	if !opts.ShowStdout && !opts.ShowStderr {
		return plainError(errNoStream) // dockerd answers 500 here (a plain error)
	}
	ctx := r.Context()
	tty := false
	for _, id := range sel.Services {
		svc, err := s.Cluster.GetService(ctx, id, false)
		if err != nil {
			return err
		}
		if cs := svc.Spec.TaskTemplate.ContainerSpec; cs != nil && cs.TTY {
			tty = true
		}
	}
	for _, id := range sel.Tasks {
		t, err := s.Cluster.GetTask(ctx, id)
		if err != nil {
			return err
		}
		if cs := t.Spec.ContainerSpec; cs != nil && cs.TTY {
			tty = true
		}
	}
	msgs, err := s.Cluster.ServiceLogs(ctx, sel, &opts)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", s.streamContentType(r, tty))
	writeLogStream(ctx, w, msgs, opts, !tty)
	return nil
}

// adjustServiceSpec drops the fields a client of an older API version cannot have meant, as dockerd.
func adjustServiceSpec(v string, spec *swarm.ServiceSpec) {
	cs := spec.TaskTemplate.ContainerSpec
	if versions.LessThan(v, "1.40") {
		if cs != nil {
			cs.Sysctls = nil
			if cs.Privileges != nil && cs.Privileges.CredentialSpec != nil {
				cs.Privileges.CredentialSpec.Config = ""
			}
			for _, c := range cs.Configs {
				c.Runtime = nil
			}
		}
		if spec.TaskTemplate.Placement != nil {
			spec.TaskTemplate.Placement.MaxReplicas = 0
		}
	}
	if versions.LessThan(v, "1.41") {
		if cs != nil {
			cs.CapabilityAdd = nil
			cs.CapabilityDrop = nil
			cs.Ulimits = nil
		}
		if res := spec.TaskTemplate.Resources; res != nil && res.Limits != nil {
			res.Limits.Pids = 0
		}
		spec.Mode.ReplicatedJob = nil
		spec.Mode.GlobalJob = nil
	}
	if versions.LessThan(v, "1.44") && cs != nil {
		if cs.Privileges != nil {
			cs.Privileges.Seccomp = nil
			cs.Privileges.AppArmor = nil
			cs.Privileges.NoNewPrivileges = false
		}
		if cs.Healthcheck != nil {
			cs.Healthcheck.StartInterval = 0
		}
	}
	if versions.LessThan(v, "1.46") && cs != nil {
		for i, m := range cs.Mounts {
			if m.TmpfsOptions != nil {
				m.TmpfsOptions.Options = nil
				cs.Mounts[i] = m
			}
		}
		cs.OomScoreAdj = 0
	}
}
