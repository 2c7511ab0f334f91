package routes

import (
	"net/http"
	"runtime"
	"slices"
	"strconv"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/system"
	"github.com/docker/docker/api/types/versions"
)

// ping answers GET and HEAD /_ping with the headers clients negotiate with.
func (s *server) ping(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Add("Cache-Control", "no-cache, no-store, must-revalidate")
	h.Add("Pragma", "no-cache")
	h.Set("Swarm", s.swarmStatus(r))
	if r.Method == http.MethodHead {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Content-Length", "0")
		return nil
	}
	_, err := w.Write([]byte("OK"))
	return err
}

// swarmStatus is the Swarm header of /_ping: the local node state, with the role when active.
func (s *server) swarmStatus(r *http.Request) string {
	if s.Cluster == nil {
		return string(swarm.LocalNodeStateInactive)
	}
	return swarmStatusOf(s.Cluster.Info(r.Context()))
}

func swarmStatusOf(info swarm.Info) string {
	state := string(info.LocalNodeState)
	if state == "" {
		return string(swarm.LocalNodeStateInactive)
	}
	if info.LocalNodeState == swarm.LocalNodeStateActive {
		if info.ControlAvailable {
			return state + "/manager"
		}
		return state + "/worker"
	}
	return state
}

// getVersion answers GET /version. The API versions are the ones this handler enforces, at the top and
// in the Engine component the CLI prints; without a SystemBackend the answer is built from Config
// alone (docker-py negotiates with it).
func (s *server) getVersion(w http.ResponseWriter, r *http.Request) error {
	var v types.Version
	if s.System != nil {
		var err error
		if v, err = s.System.SystemVersion(r.Context()); err != nil {
			return err
		}
	}
	if v.Version == "" {
		v.Version = s.ServerVersion
	}
	if v.Os == "" {
		v.Os = runtime.GOOS
	}
	if v.Arch == "" {
		v.Arch = runtime.GOARCH
	}
	if v.GoVersion == "" {
		v.GoVersion = runtime.Version()
	}
	v.APIVersion = s.DefaultAPIVersion
	v.MinAPIVersion = s.MinAPIVersion
	v.Experimental = s.Experimental

	v.Components = slices.Clone(v.Components)
	i := slices.IndexFunc(v.Components, func(c types.ComponentVersion) bool { return c.Name == "Engine" })
	if i < 0 {
		v.Components = append([]types.ComponentVersion{{Name: "Engine", Version: v.Version}}, v.Components...)
		i = 0
	}
	engine := &v.Components[i]
	details := map[string]string{
		"GitCommit": v.GitCommit, "GoVersion": v.GoVersion, "Os": v.Os, "Arch": v.Arch,
		"BuildTime": v.BuildTime, "KernelVersion": v.KernelVersion,
	}
	for k, val := range engine.Details {
		details[k] = val
	}
	details["ApiVersion"] = v.APIVersion
	details["MinAPIVersion"] = v.MinAPIVersion
	details["Experimental"] = strconv.FormatBool(v.Experimental)
	engine.Details = details
	return writeJSON(w, http.StatusOK, v)
}

// getInfo answers GET /info: the node's facts with the Swarm section from the cluster.
func (s *server) getInfo(w http.ResponseWriter, r *http.Request) error {
	info, err := s.System.SystemInfo(r.Context())
	if err != nil {
		return err
	}
	if info == nil {
		info = &system.Info{}
	}
	cp := *info // the backend may share its value; change a copy
	info = &cp
	if s.Cluster != nil {
		info.Swarm = s.Cluster.Info(r.Context())
		info.Warnings = slices.Concat(info.Warnings, info.Swarm.Warnings)
	}
	if info.Swarm.LocalNodeState == "" {
		info.Swarm.LocalNodeState = swarm.LocalNodeStateInactive
	}
	version := s.apiVersion(r)
	if versions.LessThan(version, "1.44") {
		runtimes := make(map[string]system.RuntimeWithStatus, len(info.Runtimes))
		for k, rt := range info.Runtimes {
			runtimes[k] = system.RuntimeWithStatus{Runtime: rt.Runtime} // Status is new in 1.44
		}
		info.Runtimes = runtimes
	}
	if versions.LessThan(version, "1.46") {
		info.Containerd = nil
	}
	if versions.LessThan(version, "1.49") {
		info.FirewallBackend = nil
	}
	if versions.LessThan(version, "1.50") {
		info.DiscoveredDevices = nil
	}
	return writeJSON(w, http.StatusOK, info)
}
