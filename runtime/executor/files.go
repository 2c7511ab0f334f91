package executor

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"

	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/agent"
)

// fileMount is one secret or config file to put into a container.
type fileMount struct {
	name   string // file name under the task's directory
	target string // absolute path in the container
	data   []byte
	mode   os.FileMode
	uid    int
	gid    int
}

// secretTarget is where Docker puts a secret: /run/secrets/<name>, or the absolute path given.
func secretTarget(name string) string {
	if path.IsAbs(name) {
		return name
	}
	return path.Join("/run/secrets", name)
}

// configTarget is where Docker puts a config: the path given, relative to /.
func configTarget(name string) string {
	if path.IsAbs(name) {
		return name
	}
	return "/" + name
}

func fileAttrs(f *swarm.SecretReferenceFileTarget) (os.FileMode, int, int) {
	mode := os.FileMode(0o444)
	if f.Mode != 0 {
		mode = f.Mode
	}
	uid, _ := strconv.Atoi(f.UID)
	gid, _ := strconv.Atoi(f.GID)
	return mode, uid, gid
}

// taskFiles fetches the task's secrets and configs from the managers and lists the files to mount.
func taskFiles(ctx context.Context, cs *swarm.ContainerSpec, deps agent.Dependencies) ([]fileMount, error) {
	var out []fileMount
	for i, r := range cs.Secrets {
		if r.File == nil {
			continue
		}
		sec, err := deps.Secret(ctx, r.SecretID)
		if err != nil {
			return nil, fmt.Errorf("secret %s: %w", r.SecretName, err)
		}
		mode, uid, gid := fileAttrs(r.File)
		out = append(out, fileMount{name: fmt.Sprintf("secret-%d", i), target: secretTarget(r.File.Name),
			data: sec.Spec.Data, mode: mode, uid: uid, gid: gid})
	}
	for i, r := range cs.Configs {
		if r.File == nil {
			continue
		}
		cfg, err := deps.Config(ctx, r.ConfigID)
		if err != nil {
			return nil, fmt.Errorf("config %s: %w", r.ConfigName, err)
		}
		mode, uid, gid := fileAttrs((*swarm.SecretReferenceFileTarget)(r.File))
		out = append(out, fileMount{name: fmt.Sprintf("config-%d", i), target: configTarget(r.File.Name),
			data: cfg.Spec.Data, mode: mode, uid: uid, gid: gid})
	}
	return out, nil
}

// writeTaskFiles writes the files under dir (on the exec root, a tmpfs: secrets never reach the
// disk) and returns the read-only bind mounts that put them in the container.
func writeTaskFiles(dir string, files []fileMount) ([]mount.Mount, error) {
	if len(files) == 0 {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var mounts []mount.Mount
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, f.data, f.mode); err != nil {
			return nil, err
		}
		if err := os.Chmod(p, f.mode); err != nil {
			return nil, err
		}
		if err := os.Chown(p, f.uid, f.gid); err != nil {
			return nil, err
		}
		mounts = append(mounts, mount.Mount{Type: mount.TypeBind, Source: p, Target: f.target, ReadOnly: true})
	}
	return mounts, nil
}
