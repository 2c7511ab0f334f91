package build

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Programs are the testimages programs the standard images run.
var Programs = []string{"whoami", "sleeper", "exitcode", "healthy"}

// Named is an image with the reference it goes by, without registry: the
// repository and tag, e.g. "whoami:1".
type Named struct {
	Ref   string
	Image v1.Image
}

// The standard images and their tags. Each ":latest" is the same image as
// ":1"; whoami:2 differs from whoami:1 only by WHOAMI_VERSION=2 (its answers
// say "Version: 2"), for image updates and rollbacks.
//
//	busybox   Cmd [sh]
//	whoami    Entrypoint [/whoami], port 80/tcp, /health toggled by /tmp/unhealthy
//	sleeper   Entrypoint [/sleeper], StopSignal SIGTERM, exits 0 on it
//	exitcode  Entrypoint [/exitcode], Cmd [0]: exit code and delay from args or env
//	healthy   Entrypoint [/healthy], port 80/tcp, Healthcheck [CMD /healthy -check]
//	          every 1s, timeout 2s, 2 retries; `touch /tmp/unhealthy` flips it
func standardSpecs() []spec {
	env := []string{DefaultPath}
	port80 := map[string]struct{}{"80/tcp": {}}
	return []spec{
		{tags: []string{"busybox:1", "busybox:latest"}, cfg: v1.Config{Env: env, Cmd: []string{"sh"}}},
		{tags: []string{"whoami:1", "whoami:latest"}, program: "whoami", cfg: v1.Config{
			Env: append(env, "WHOAMI_VERSION=1"), Entrypoint: []string{"/whoami"}, ExposedPorts: port80, StopSignal: "SIGTERM"}},
		{tags: []string{"whoami:2"}, program: "whoami", cfg: v1.Config{
			Env: append(env, "WHOAMI_VERSION=2"), Entrypoint: []string{"/whoami"}, ExposedPorts: port80, StopSignal: "SIGTERM"}},
		{tags: []string{"sleeper:1", "sleeper:latest"}, program: "sleeper", cfg: v1.Config{
			Env: env, Entrypoint: []string{"/sleeper"}, StopSignal: "SIGTERM"}},
		{tags: []string{"exitcode:1", "exitcode:latest"}, program: "exitcode", cfg: v1.Config{
			Env: env, Entrypoint: []string{"/exitcode"}, Cmd: []string{"0"}}},
		{tags: []string{"healthy:1", "healthy:latest"}, program: "healthy", cfg: v1.Config{
			Env: env, Entrypoint: []string{"/healthy"}, ExposedPorts: port80, StopSignal: "SIGTERM",
			Healthcheck: &v1.HealthConfig{
				Test:     []string{"CMD", "/healthy", "-check"},
				Interval: time.Second, Timeout: 2 * time.Second, Retries: 2,
			}}},
	}
}

type spec struct {
	tags    []string
	program string // testimages program on top of the base layer, "" for none
	cfg     v1.Config
}

var standard struct {
	once   sync.Once
	images []Named
	err    error
}

// Standard builds the standard test images (see standardSpecs) once per
// process and returns them sorted by reference. It compiles the programs
// with CompileGo, so the current directory must be inside this module.
func Standard(ctx context.Context) ([]Named, error) {
	standard.once.Do(func() {
		standard.images, standard.err = buildStandard(ctx)
	})
	return standard.images, standard.err
}

func buildStandard(ctx context.Context) ([]Named, error) {
	pkgs := make([]string, len(Programs))
	for i, p := range Programs {
		pkgs[i] = ModulePath + "/testimages/" + p
	}
	bins, err := CompileGo(ctx, pkgs...)
	if err != nil {
		return nil, err
	}
	baseLayer, err := BaseLayer()
	if err != nil {
		return nil, err
	}
	programLayers := map[string]v1.Layer{}
	for name, data := range bins {
		if programLayers[name], err = ProgramLayer("/"+name, data); err != nil {
			return nil, err
		}
	}
	var out []Named
	for _, s := range standardSpecs() {
		layers := []v1.Layer{baseLayer}
		if s.program != "" {
			l, ok := programLayers[s.program]
			if !ok {
				return nil, fmt.Errorf("build: no program %q", s.program)
			}
			layers = append(layers, l)
		}
		img, err := Image(s.cfg, layers...)
		if err != nil {
			return nil, err
		}
		for _, tag := range s.tags {
			out = append(out, Named{Ref: tag, Image: img})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out, nil
}
