package scheduler

import (
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/store"
)

// pluginFilter: the node has the volume, network and log drivers the task needs, as its engine
// reports them (swarmkit's PluginFilter).
type pluginFilter struct{ need []swarm.PluginDescription }

func (f *pluginFilter) enabled(t *store.Task, _ *store.Service) bool {
	f.need = f.need[:0]
	if c := t.Spec.ContainerSpec; c != nil {
		for _, m := range c.Mounts {
			if m.Type == mount.TypeVolume && m.VolumeOptions != nil && m.VolumeOptions.DriverConfig != nil &&
				m.VolumeOptions.DriverConfig.Name != "" && m.VolumeOptions.DriverConfig.Name != "local" {
				f.need = append(f.need, swarm.PluginDescription{Type: "Volume", Name: m.VolumeOptions.DriverConfig.Name})
			}
		}
	}
	for _, a := range t.NetworksAttachments {
		if a.Network.DriverState.Name != "" {
			f.need = append(f.need, swarm.PluginDescription{Type: "Network", Name: a.Network.DriverState.Name})
		}
	}
	if d := t.Spec.LogDriver; d != nil && d.Name != "" && d.Name != "none" {
		f.need = append(f.need, swarm.PluginDescription{Type: "Log", Name: d.Name})
	}
	return len(f.need) > 0
}

func (f *pluginFilter) check(n *nodeInfo) bool {
	have := n.node.Description.Engine.Plugins
	for _, p := range f.need {
		typeFound, found := false, false
		for _, h := range have {
			if h.Type == p.Type {
				typeFound = true
				found = found || h.Name == p.Name || h.Name == p.Name+":latest"
			}
		}
		// An engine that reports no driver of a type at all is taken to have any (swarmkit does
		// so for log drivers, which older engines did not report).
		if typeFound && !found {
			return false
		}
	}
	return true
}

func (f *pluginFilter) explain(nodes int) string { return plural(nodes, "missing plugin on %s") }
