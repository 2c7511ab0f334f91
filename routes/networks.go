package routes

import (
	"context"
	"net/http"
	"strings"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/versions"
	"github.com/docker/docker/errdefs"
	"github.com/go-chi/chi/v5"

	"github.com/shoal-project/shoal/internal/prunefilter"
)

// isPredefinedNetwork reports the names dockerd reserves on Linux.
func isPredefinedNetwork(name string) bool {
	switch name {
	case "bridge", "host", "none", "default":
		return true
	}
	return false
}

// knownNetworkDriver reports the drivers built into dockerd on Linux ("" is the default).
func knownNetworkDriver(name string) bool {
	switch name {
	case "", "overlay", "bridge", "host", "null", "macvlan", "ipvlan":
		return true
	}
	return false
}

// getNetworks lists the swarm's networks and the node's own, filtered with dockerd's rules. As dockerd,
// a cluster error (not a manager, no swarm) only leaves the swarm networks out.
func (s *server) getNetworks(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFilters(r, networkFilters)
	if err != nil {
		return err
	}
	all, err := s.allNetworks(r.Context(), f)
	if err != nil {
		return err
	}
	list, err := filterNetworks(all, f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(list))
}

// allNetworks is the swarm's networks (f is passed on; a failure is ignored) then the local ones not
// already listed.
func (s *server) allNetworks(ctx context.Context, f filters.Args) ([]network.Inspect, error) {
	var list []network.Inspect
	if s.Cluster != nil {
		if nws, err := s.Cluster.GetNetworks(ctx, f); err == nil {
			list = nws
		}
	}
	local, err := s.localNetworks(ctx)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(list))
	for _, nw := range list {
		seen[nw.ID] = true
	}
	for _, nw := range local {
		if !seen[nw.ID] {
			list = append(list, nw)
		}
	}
	return list, nil
}

func (s *server) localNetworks(ctx context.Context) ([]network.Inspect, error) {
	if s.LocalNetworks == nil {
		return nil, nil
	}
	return s.LocalNetworks.LocalNetworks(ctx)
}

func (s *server) clusterNetworks(ctx context.Context) []network.Inspect {
	if s.Cluster == nil {
		return nil
	}
	nws, _ := s.Cluster.GetNetworks(ctx, filters.NewArgs())
	return nws
}

// filterNetworks applies dockerd's network filters (daemon/network/filter.go): driver and scope match
// exactly, name and id by substring (regexp), label by key or key=value, dangling and type by use.
func filterNetworks(nws []network.Inspect, f filters.Args) ([]network.Inspect, error) {
	if f.Len() == 0 {
		return nws, nil
	}
	var out []network.Inspect
	for _, nw := range nws {
		if f.Contains("driver") && !f.ExactMatch("driver", nw.Driver) {
			continue
		}
		if f.Contains("name") && !f.Match("name", nw.Name) {
			continue
		}
		if f.Contains("id") && !f.Match("id", nw.ID) {
			continue
		}
		if f.Contains("label") && !f.MatchKVList("label", nw.Labels) {
			continue
		}
		if f.Contains("scope") && !f.ExactMatch("scope", nw.Scope) {
			continue
		}
		out = append(out, nw)
	}
	if values := f.Get("dangling"); len(values) > 0 {
		if len(values) > 1 {
			return nil, invalidParam(`got more than one value for filter key "dangling"`)
		}
		if err := danglingValue(values[0]); err != nil {
			return nil, err
		}
		dangling := values[0] == "1" || values[0] == "true"
		var kept []network.Inspect
		for _, nw := range out {
			inUse := isPredefinedNetwork(nw.Name) || len(nw.Containers) > 0 || len(nw.Services) > 0
			if inUse != dangling {
				kept = append(kept, nw)
			}
		}
		out = kept
	}
	if f.Contains("type") {
		var typed []network.Inspect
		for _, t := range f.Get("type") {
			if err := networkTypeValue(t); err != nil {
				return nil, err
			}
			for _, nw := range out {
				if isPredefinedNetwork(nw.Name) == (t == "builtin") {
					typed = append(typed, nw)
				}
			}
		}
		out = typed
	}
	return out, nil
}

// getNetwork finds one network by full ID, full name or ID prefix, local networks first, as dockerd.
func (s *server) getNetwork(w http.ResponseWriter, r *http.Request) error {
	if _, err := strictBool(r, "verbose"); err != nil {
		return err
	}
	term, scope := chi.URLParam(r, "id"), r.URL.Query().Get("scope")
	ctx := r.Context()

	byName := map[string]network.Inspect{}
	byPrefix := map[string]network.Inspect{}
	local, _ := s.localNetworks(ctx)
	for _, nw := range local {
		if scope != "" && nw.Scope != scope {
			continue
		}
		if nw.ID == term {
			return writeJSON(w, http.StatusOK, s.withEndpoints(ctx, nw))
		}
		if nw.Name == term {
			byName[nw.ID] = nw
		}
		if strings.HasPrefix(nw.ID, term) {
			byPrefix[nw.ID] = nw
		}
	}
	if s.Cluster != nil {
		if nw, err := s.Cluster.GetNetwork(ctx, term); err == nil && (strings.HasPrefix(nw.ID, term) || scope == "swarm") {
			return writeJSON(w, http.StatusOK, s.withEndpoints(ctx, nw))
		}
	}
	for _, nw := range s.clusterNetworks(ctx) {
		if scope != "" && nw.Scope != scope {
			continue
		}
		if nw.ID == term {
			return writeJSON(w, http.StatusOK, s.withEndpoints(ctx, nw))
		}
		if _, ok := byName[nw.ID]; !ok && nw.Name == term {
			byName[nw.ID] = nw
		}
		if _, ok := byPrefix[nw.ID]; !ok && strings.HasPrefix(nw.ID, term) {
			byPrefix[nw.ID] = nw
		}
	}
	nw, err := uniqueNetwork(term, byName, byPrefix, ambiguousOnInspect)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.withEndpoints(ctx, nw))
}

// withEndpoints adds this node's containers and peers to a swarm network, as dockerd shows them.
func (s *server) withEndpoints(ctx context.Context, nw network.Inspect) network.Inspect {
	if s.NetworkEndpoints == nil || nw.Scope != "swarm" {
		return nw
	}
	containers, peers := s.NetworkEndpoints.NetworkEndpoints(ctx, nw.ID)
	if len(containers) > 0 {
		nw.Containers = containers
	}
	if len(peers) > 0 {
		nw.Peers = peers
	}
	return nw
}

// dockerd words an ambiguous network differently on inspect and on remove.
func ambiguousOnInspect(term string, n int, how string) error {
	return invalidParam("%d matches found based on %s: network %s is ambiguous", n, how, term)
}

func ambiguousOnRemove(term string, n int, how string) error {
	return invalidParam("network %s is ambiguous (%d matches found based on %s)", term, n, how)
}

// uniqueNetwork picks the single name match, else the single ID-prefix match.
func uniqueNetwork(term string, byName, byPrefix map[string]network.Inspect, ambiguous func(term string, n int, how string) error) (network.Inspect, error) {
	for _, m := range []struct {
		found map[string]network.Inspect
		how   string
	}{{byName, "name"}, {byPrefix, "ID prefix"}} {
		switch len(m.found) {
		case 0:
			continue
		case 1:
			for _, nw := range m.found {
				return nw, nil
			}
		default:
			return network.Inspect{}, ambiguous(term, len(m.found), m.how)
		}
	}
	return network.Inspect{}, errdefs.NotFound(plainError("network %s not found", term))
}

// findNetwork resolves a network for removal: full ID, else unique name (an ingress network is not
// found by name locally), else unique ID prefix.
func (s *server) findNetwork(ctx context.Context, term string) (network.Inspect, error) {
	byName := map[string]network.Inspect{}
	byPrefix := map[string]network.Inspect{}
	local, _ := s.localNetworks(ctx)
	for _, nw := range local {
		if nw.ID == term {
			return nw, nil
		}
		if nw.Name == term && !nw.Ingress {
			byName[nw.ID] = nw
		}
		if strings.HasPrefix(nw.ID, term) {
			byPrefix[nw.ID] = nw
		}
	}
	for _, nw := range s.clusterNetworks(ctx) {
		if nw.ID == term {
			return nw, nil
		}
		if _, ok := byName[nw.ID]; !ok && nw.Name == term {
			byName[nw.ID] = nw
		}
		if _, ok := byPrefix[nw.ID]; !ok && strings.HasPrefix(nw.ID, term) {
			byPrefix[nw.ID] = nw
		}
	}
	return uniqueNetwork(term, byName, byPrefix, ambiguousOnRemove)
}

// removeNetwork answers 204. Swarm networks go to the cluster; local ones are the predefined networks,
// which cannot be removed.
func (s *server) removeNetwork(w http.ResponseWriter, r *http.Request) error {
	nw, err := s.findNetwork(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	switch {
	case nw.Scope == "swarm" && s.Cluster != nil:
		if err := s.Cluster.RemoveNetwork(r.Context(), nw.ID); err != nil {
			return err
		}
	case isPredefinedNetwork(nw.Name):
		return errdefs.Forbidden(plainError("%s is a pre-defined network and cannot be removed", nw.Name))
	default:
		return errdefs.NotImplemented(plainError("removing local network %s is not supported", nw.Name))
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// createNetwork creates a swarm network: 201 {"Id": ..., "Warning": ""}. Predefined names are 403,
// a name in use is 409.
func (s *server) createNetwork(w http.ResponseWriter, r *http.Request) error {
	var req network.CreateRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if isPredefinedNetwork(req.Name) {
		return errdefs.Forbidden(plainError("%s is a pre-defined network and cannot be created", req.Name))
	}
	if !knownNetworkDriver(req.Driver) {
		// dockerd looks the driver up as a plugin before anything else
		return errdefs.NotFound(plainError("plugin %q not found", req.Driver))
	}
	if versions.LessThan(s.apiVersion(r), "1.48") { // EnableIPv4 is new in 1.48
		req.EnableIPv4 = nil
	}
	ctx := r.Context()
	existing, err := s.allNetworks(ctx, filters.NewArgs(filters.Arg("name", req.Name)))
	if err != nil {
		return err
	}
	for _, nw := range existing {
		if nw.Name == req.Name {
			return errdefs.Conflict(plainError("network with name %s already exists", req.Name))
		}
	}
	id, err := s.Cluster.CreateNetwork(ctx, req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, network.CreateResponse{ID: id})
}

// pruneNetworks removes the unused swarm networks matching label/label!/until, as dockerd: it tries to
// remove every candidate and keeps those the cluster let go (in-use ones refuse). Ingress and
// predefined networks are never pruned.
func (s *server) pruneNetworks(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFilters(r, networkPruneFilters)
	if err != nil {
		return err
	}
	until, err := prunefilter.Until(f, s.Now())
	if err != nil {
		return err
	}
	report := network.PruneReport{}
	ctx := r.Context()
	for _, nw := range s.clusterNetworks(ctx) {
		if nw.Ingress || nw.Labels["com.docker.swarm.predefined"] == "true" || isPredefinedNetwork(nw.Name) {
			continue
		}
		if !until.IsZero() && nw.Created.After(until) {
			continue
		}
		if !prunefilter.MatchLabels(f, nw.Labels) {
			continue
		}
		if err := s.Cluster.RemoveNetwork(ctx, nw.ID); err != nil {
			continue
		}
		report.NetworksDeleted = append(report.NetworksDeleted, nw.Name)
	}
	return writeJSON(w, http.StatusOK, report)
}
