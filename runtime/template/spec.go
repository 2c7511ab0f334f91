package template

import (
	"fmt"
	"strings"

	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"
)

// ExpandContainerSpec returns a copy of cs with its Env values, Hostname and the string fields of
// its Mounts expanded; cs itself is left alone. Errors read as swarmkit's, e.g.
// `expanding env failed: expanding env "A={{.X}}": template: ...`.
func ExpandContainerSpec(c *Context, cs *swarm.ContainerSpec) (*swarm.ContainerSpec, error) {
	out := *cs
	var err error
	if out.Env, err = expandEnv(c, cs.Env); err != nil {
		return nil, fmt.Errorf("expanding env failed: %w", err)
	}
	if out.Mounts, err = expandMounts(c, cs.Mounts); err != nil {
		return nil, fmt.Errorf("expanding mounts failed: %w", err)
	}
	if out.Hostname, err = Expand(c, cs.Hostname); err != nil {
		return nil, fmt.Errorf("expanding hostname failed: %w", err)
	}
	return &out, nil
}

// expandEnv expands the value of each NAME=value entry; entries without "=" are kept.
func expandEnv(c *Context, env []string) ([]string, error) {
	var out []string
	for _, e := range env {
		name, value, ok := strings.Cut(e, "=")
		if !ok {
			out = append(out, e)
			continue
		}
		v, err := Expand(c, value)
		if err != nil {
			return nil, fmt.Errorf("expanding env %q: %w", e, err)
		}
		out = append(out, name+"="+v)
	}
	return out, nil
}

// expandMounts expands Source, Target, and the volume labels and driver options of each mount,
// into copies.
func expandMounts(c *Context, mounts []mount.Mount) ([]mount.Mount, error) {
	if len(mounts) == 0 {
		return mounts, nil
	}
	out := make([]mount.Mount, len(mounts))
	for i, m := range mounts {
		var err error
		if m.Source, err = Expand(c, m.Source); err != nil {
			return nil, fmt.Errorf("expanding mount source %q: %w", m.Source, err)
		}
		if m.Target, err = Expand(c, m.Target); err != nil {
			return nil, fmt.Errorf("expanding mount target %q: %w", m.Target, err)
		}
		if vo := m.VolumeOptions; vo != nil {
			v := *vo
			if v.Labels, err = expandMap(c, vo.Labels); err != nil {
				return nil, fmt.Errorf("expanding volume labels: %w", err)
			}
			if dc := vo.DriverConfig; dc != nil {
				d := *dc
				if d.Options, err = expandMap(c, dc.Options); err != nil {
					return nil, fmt.Errorf("expanding volume driver config: %w", err)
				}
				v.DriverConfig = &d
			}
			m.VolumeOptions = &v
		}
		out[i] = m
	}
	return out, nil
}

// expandMap expands the values of m into a new map.
func expandMap(c *Context, m map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(m))
	for k, v := range m {
		e, err := Expand(c, v)
		if err != nil {
			return nil, fmt.Errorf("expanding map entry %q=%q: %w", k, v, err)
		}
		out[k] = e
	}
	return out, nil
}
