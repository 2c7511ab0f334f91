package image

import (
	"context"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/errdefs"
	"github.com/docker/docker/pkg/progress"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// Image is a stored image as the container runtime uses it. It is a copy: callers may keep and
// change it.
type Image struct {
	ID          string   // "sha256:<hex>", the digest of the image config
	RepoTags    []string // familiar form: "busybox:latest", "127.0.0.1:5000/whoami:1"
	RepoDigests []string // familiar form: "busybox@sha256:…"
	Created     time.Time
	Size        int64 // sum of the unpacked layer sizes
	OS          string
	Arch        string
	Variant     string

	// Config holds Entrypoint, Cmd, Env, WorkingDir, User, ExposedPorts, StopSignal, Labels,
	// Volumes (embedded ocispec.ImageConfig) and Healthcheck, Shell, OnBuild.
	Config dockerspec.DockerOCIImageConfig

	// LayerDirs are the unpacked layer directories, LOWEST FIRST. overlayfs wants its lowerdir
	// option top-most first: use LowerDir. A layer that appears twice in an image is listed once,
	// at its top-most place (overlayfs refuses a directory twice). Empty for an image without layers.
	// The directories must not be modified; they stay in place while the image exists, and a delete
	// of an image a container uses is refused (see UsersFunc).
	LayerDirs []string
}

// LowerDir is the overlayfs lowerdir option value for the image: LayerDirs top-most first, joined
// with ':'.
func (img *Image) LowerDir() string {
	dirs := make([]string, len(img.LayerDirs))
	for i, d := range img.LayerDirs {
		dirs[len(dirs)-1-i] = d
	}
	return strings.Join(dirs, ":")
}

// Resolve returns the local image named by ref: a reference ("busybox", "busybox:1",
// "repo@sha256:…", "repo:tag@sha256:…"), a full image ID or an unambiguous ID prefix.
// Errors: errdefs.NotFound "No such image: busybox:latest"; errdefs.InvalidParameter for a malformed
// reference.
func (s *Store) Resolve(ctx context.Context, ref string) (*Image, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.lookupLocked(ref)
	if err != nil {
		return nil, err
	}
	return s.imageLocked(rec), nil
}

// EnsureImage returns the image ref, pulling it first (for the store's platform) when it is not
// stored. A failed pull returns the registry's error ("manifest for x:1 not found: manifest unknown:
// …", "unauthorized: …", "…: connect: connection refused"), so that a task's Status.Err shows it;
// errdefs.NotFound "No such image: x" is returned only when nothing better is known.
func (s *Store) EnsureImage(ctx context.Context, ref string, auth *registry.AuthConfig) (*Image, error) {
	img, err := s.Resolve(ctx, ref)
	if err == nil || !errdefs.IsNotFound(err) {
		return img, err
	}
	if parsed, perr := reference.ParseAnyReference(ref); perr == nil {
		if _, named := parsed.(reference.Named); !named {
			return nil, err // an image ID: nothing to pull
		}
	}
	named, perr := ParseReference(ref)
	if perr != nil {
		return nil, perr
	}
	if _, perr := s.pull(ctx, named, nil, auth, progress.DiscardOutput()); perr != nil {
		return nil, perr
	}
	return s.Resolve(ctx, named.String())
}

// imageLocked builds the runtime's view of a record.
func (s *Store) imageLocked(rec *imageRecord) *Image {
	tags, digests := s.tagsAndDigestsLocked(rec.id)
	img := &Image{
		ID:          rec.id,
		RepoTags:    tags,
		RepoDigests: digests,
		Size:        rec.meta.Size,
		OS:          rec.cfg.OS,
		Arch:        rec.cfg.Architecture,
		Variant:     rec.cfg.Variant,
		Config:      copyConfig(rec.cfg.Config),
	}
	if rec.cfg.Created != nil {
		img.Created = *rec.cfg.Created
	}
	seen := map[string]bool{}
	for i := len(rec.diffIDs) - 1; i >= 0; i-- {
		d := rec.diffIDs[i]
		if seen[d] {
			continue
		}
		seen[d] = true
		img.LayerDirs = append([]string{s.layers.diffDir(d)}, img.LayerDirs...)
	}
	return img
}

// copyConfig deep-copies the slices and maps of an image config.
func copyConfig(c dockerspec.DockerOCIImageConfig) dockerspec.DockerOCIImageConfig {
	out := c
	out.Env = append([]string(nil), c.Env...)
	out.Entrypoint = append([]string(nil), c.Entrypoint...)
	out.Cmd = append([]string(nil), c.Cmd...)
	out.Shell = append([]string(nil), c.Shell...)
	out.OnBuild = append([]string(nil), c.OnBuild...)
	out.ExposedPorts = copySet(c.ExposedPorts)
	out.Volumes = copySet(c.Volumes)
	if c.Labels != nil {
		out.Labels = make(map[string]string, len(c.Labels))
		for k, v := range c.Labels {
			out.Labels[k] = v
		}
	}
	if c.Healthcheck != nil {
		hc := *c.Healthcheck
		hc.Test = append([]string(nil), c.Healthcheck.Test...)
		out.Healthcheck = &hc
	}
	return out
}

func copySet(m map[string]struct{}) map[string]struct{} {
	if m == nil {
		return nil
	}
	out := make(map[string]struct{}, len(m))
	for k := range m {
		out[k] = struct{}{}
	}
	return out
}
