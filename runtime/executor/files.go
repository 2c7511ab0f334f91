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

	"github.com/shoal-project/shoal/runtime/template"
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

	secretID string // the secret the file holds, or
	configID string // the config
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

// taskFiles lists the files of the task's secrets and configs, without their data: secrets first,
// in the order of the spec, as Docker writes them.
func taskFiles(cs *swarm.ContainerSpec) []fileMount {
	var out []fileMount
	for i, r := range cs.Secrets {
		if r.File == nil {
			continue
		}
		mode, uid, gid := fileAttrs(r.File)
		out = append(out, fileMount{name: fmt.Sprintf("secret-%d", i), target: secretTarget(r.File.Name),
			mode: mode, uid: uid, gid: gid, secretID: r.SecretID})
	}
	for i, r := range cs.Configs {
		if r.File == nil {
			continue
		}
		mode, uid, gid := fileAttrs((*swarm.SecretReferenceFileTarget)(r.File))
		out = append(out, fileMount{name: fmt.Sprintf("config-%d", i), target: configTarget(r.File.Name),
			mode: mode, uid: uid, gid: gid, configID: r.ConfigID})
	}
	return out
}

// fillTaskFiles fetches the task's secrets and configs from the managers and sets the data of the
// files, their templates expanded with tctx (see template.ExpandPayload). Errors read as Docker's:
// "unable to get secret from secret store: failed to expand templated secret <id>: ...".
func fillTaskFiles(ctx context.Context, files []fileMount, cs *swarm.ContainerSpec, deps agent.Dependencies, tctx *template.Context) error {
	secrets := map[string]*swarm.Secret{}
	configs := map[string]*swarm.Config{}
	for _, f := range files {
		switch {
		case f.secretID != "" && secrets[f.secretID] == nil:
			s, err := deps.Secret(ctx, f.secretID)
			if err != nil {
				return fmt.Errorf("unable to get secret from secret store: %w", err)
			}
			secrets[f.secretID] = s
		case f.configID != "" && configs[f.configID] == nil:
			c, err := deps.Config(ctx, f.configID)
			if err != nil {
				return fmt.Errorf("unable to get config from config store: %w", err)
			}
			configs[f.configID] = c
		}
	}
	p := payload(cs, secrets, configs)
	for i, f := range files {
		if f.secretID != "" {
			s := secrets[f.secretID]
			data, err := template.ExpandPayload(s.Spec.Templating, s.Spec.Data, tctx, p)
			if err != nil {
				return fmt.Errorf("unable to get secret from secret store: failed to expand templated secret %s: %w", f.secretID, err)
			}
			files[i].data = data
			continue
		}
		c := configs[f.configID]
		data, err := template.ExpandPayload(c.Spec.Templating, c.Spec.Data, tctx, p)
		if err != nil {
			return fmt.Errorf("unable to get config from config store: failed to expand templated config %s: %w", f.configID, err)
		}
		files[i].data = data
	}
	return nil
}

// payload is what the task's secret and config templates may include: the container spec's env
// and the raw data of its secrets and configs by file target name, the first reference of a name
// counting.
func payload(cs *swarm.ContainerSpec, secrets map[string]*swarm.Secret, configs map[string]*swarm.Config) template.Payload {
	p := template.Payload{Env: cs.Env, Secrets: map[string][]byte{}, Configs: map[string][]byte{}}
	for _, r := range cs.Secrets {
		if s := secrets[r.SecretID]; r.File != nil && s != nil {
			if _, dup := p.Secrets[r.File.Name]; !dup {
				p.Secrets[r.File.Name] = s.Spec.Data
			}
		}
	}
	for _, r := range cs.Configs {
		if c := configs[r.ConfigID]; r.File != nil && c != nil {
			if _, dup := p.Configs[r.File.Name]; !dup {
				p.Configs[r.File.Name] = c.Spec.Data
			}
		}
	}
	return p
}

// writeTaskFiles writes the files under dir (on the exec root, a tmpfs: secrets never reach the
// disk) and returns the read-only bind mounts that put them in the container. Writing again
// rewrites the same files in place, so that a container's mounts see the new data.
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
