package server

import (
	"context"
	"log/slog"
	"path/filepath"

	"github.com/docker/docker/api/types/network"

	"github.com/shoal-project/shoal/overlay"
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
	networks   *overlay.Manager // nil when the data plane could not start
	log        *slog.Logger
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
	exec := executor.New(images, rt, Version, cfg.ExecRoot)
	p := &parts{images: images, runtime: rt, executor: exec, containers: containers, log: log}
	if nets, err := overlay.New(cfg.ExecRoot, log); err != nil {
		log.Error("overlay networks are not available: tasks get loopback only", "err", err)
	} else {
		p.networks = nets
		exec.SetNetworks(nets)
	}
	return p, nil
}

func (p *parts) close() {
	// containers keep running, and their networks stay: a restarted shoald adopts them
	if p.networks != nil {
		p.networks.Close()
	}
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
	if p.networks != nil {
		if err := p.networks.Reset(); err != nil {
			p.log.Warn("overlay: removing the networks of the swarm left", "err", err)
		}
	}
}

// NetworkEndpoints implements routes.NetworkEndpointsBackend: the task containers of this node on
// a swarm network, and the network's peers from the node's data plane.
func (p *parts) NetworkEndpoints(ctx context.Context, networkID string) (map[string]network.EndpointResource, []network.PeerInfo) {
	containers := map[string]network.EndpointResource{}
	for _, c := range p.runtime.List() {
		for _, ep := range c.Spec.Networks {
			if ep.NetworkID == networkID {
				containers[c.ID] = network.EndpointResource{Name: c.Name, EndpointID: ep.EndpointID,
					MacAddress: ep.MacAddress, IPv4Address: ep.Address}
			}
		}
	}
	var peers []network.PeerInfo
	if p.networks != nil {
		for _, peer := range p.networks.Peers(networkID) {
			peers = append(peers, network.PeerInfo{Name: peer.NodeID, IP: peer.Addr})
		}
	}
	return containers, peers
}
