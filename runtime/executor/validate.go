package executor

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/docker/docker/api/types/mount"
)

// validateMounts checks a task's mounts as Docker's swarm executor does before it makes the task's
// controller (moby daemon/cluster/executor/container/validate.go), with its texts: the task is
// rejected with the first error. Other mount errors come from the container runtime, as dockerd's
// come from its container create.
func validateMounts(mounts []mount.Mount) error {
	for _, m := range mounts {
		if !filepath.IsAbs(m.Target) && m.Type != mount.TypeNamedPipe {
			return fmt.Errorf("invalid mount target, must be an absolute path: %s", m.Target)
		}
		switch m.Type {
		case mount.TypeBind:
			if !filepath.IsAbs(m.Source) {
				return fmt.Errorf("invalid bind mount source, must be an absolute path: %s", m.Source)
			}
		case mount.TypeVolume:
			if filepath.IsAbs(m.Source) {
				return fmt.Errorf("invalid volume mount source, must not be an absolute path: %s", m.Source)
			}
		case mount.TypeTmpfs:
			if m.Source != "" {
				return errors.New("invalid tmpfs source, source must be empty")
			}
		case mount.TypeNamedPipe:
			if m.Source == "" {
				return errors.New("invalid npipe source, source must not be empty")
			}
		case mount.TypeCluster:
		default:
			return fmt.Errorf("invalid mount type: %s", m.Type)
		}
	}
	return nil
}
