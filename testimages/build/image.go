package build

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// buildTime is the creation time of every image and layer entry.
var buildTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// DefaultPath is the PATH every standard image sets.
const DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Image assembles a linux image for this machine's architecture from
// layers (bottom first) with the container config cfg (Entrypoint, Cmd, Env,
// ExposedPorts, Healthcheck, StopSignal, ...). The result is a Docker
// schema 2 image, as `docker push` makes.
func Image(cfg v1.Config, layers ...v1.Layer) (v1.Image, error) {
	adds := make([]mutate.Addendum, len(layers))
	for i, l := range layers {
		adds[i] = mutate.Addendum{Layer: l, History: v1.History{
			Created:   v1.Time{Time: buildTime},
			CreatedBy: "shoal testimages/build",
		}}
	}
	img, err := mutate.Append(empty.Image, adds...)
	if err != nil {
		return nil, fmt.Errorf("build: append layers: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("build: config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.Architecture = runtime.GOARCH
	cf.OS = "linux"
	cf.Created = v1.Time{Time: buildTime}
	cf.Config = cfg
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("build: set config: %w", err)
	}
	return img, nil
}

// Push uploads img to every ref (e.g. "127.0.0.1:5000/whoami:1"); plain
// HTTP is used, as for any loopback registry.
func Push(ctx context.Context, img v1.Image, refs ...string) error {
	for _, r := range refs {
		ref, err := name.ParseReference(r, name.Insecure)
		if err != nil {
			return fmt.Errorf("build: push %s: %w", r, err)
		}
		if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
			return fmt.Errorf("build: push %s: %w", r, err)
		}
	}
	return nil
}

// WriteArchive writes images, keyed by reference (e.g. "whoami:1"), as one
// tar file in the format of `docker save`, for `docker load -i path`.
func WriteArchive(path string, images map[string]v1.Image) error {
	refs := make(map[name.Reference]v1.Image, len(images))
	for r, img := range images {
		tag, err := name.NewTag(r)
		if err != nil {
			return fmt.Errorf("build: archive ref %s: %w", r, err)
		}
		refs[tag] = img
	}
	if err := tarball.MultiRefWriteToFile(path, refs); err != nil {
		return fmt.Errorf("build: write %s: %w", path, err)
	}
	return nil
}
