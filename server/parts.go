package server

import (
	"context"
	"log/slog"
	"path/filepath"

	"github.com/shoal-project/shoal/runtime/container"
	"github.com/shoal-project/shoal/runtime/containerapi"
	"github.com/shoal-project/shoal/runtime/executor"
	"github.com/shoal-project/shoal/runtime/image"
	"github.com/shoal-project/shoal/swarm/agent"
)

// parts are the node-local runtime pieces: image store, container runtime, task executor, and
// the container endpoints over them.
type parts struct {
	images     *image.Store
	runtime    *container.Runtime
	executor   agent.Executor
	containers *containerapi.Backend
}

func newParts(ctx context.Context, cfg Config, log *slog.Logger, onEvent func(container.Event)) (*parts, error) {
	images, err := image.New(image.Options{DataRoot: cfg.DataRoot, InsecureRegistries: cfg.InsecureRegistries, Logger: log})
	if err != nil {
		return nil, err
	}
	rt, err := container.New(container.Options{ExecRoot: filepath.Join(cfg.ExecRoot), DataRoot: cfg.DataRoot, Logger: log, OnEvent: onEvent})
	if err != nil {
		return nil, err
	}
	containers := containerapi.New(rt, images)
	images.SetUsers(containers.ImageUsers) // docker rmi refuses images that containers use
	return &parts{images: images, runtime: rt, executor: executor.New(images, rt, Version, cfg.ExecRoot), containers: containers}, nil
}

func (p *parts) close() {
	// containers keep running: a restarted shoald adopts them
	p.runtime.Close()
}

func (p *parts) containerCounts() (total, running, stopped int) {
	for _, c := range p.runtime.List() {
		total++
		if c.State.Status == container.StatusRunning {
			running++
		} else {
			stopped++
		}
	}
	return
}

func (p *parts) imageCount() int {
	list, err := p.images.Images(context.Background(), imageListAll)
	if err != nil {
		return 0
	}
	return len(list)
}

// removeTaskContainers removes every swarm task container of this node, as dockerd does when the
// node leaves its swarm.
func (p *parts) removeTaskContainers() {
	for _, c := range p.runtime.List() {
		if _, ok := c.Spec.Labels["com.docker.swarm.task.id"]; ok {
			p.runtime.Delete(c.ID)
		}
	}
}
