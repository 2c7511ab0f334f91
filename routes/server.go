package routes

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
)

// Config is what New needs: the backends the handlers call and the versions the middleware enforces.
// A nil backend is allowed: its routes answer 501 with a Docker-style error body.
type Config struct {
	Cluster       ClusterBackend      // swarm, services, tasks, nodes, secrets, configs, swarm networks
	System        SystemBackend       // /info, /version
	Images        ImageBackend        // /images/..., /distribution/...
	Containers    ContainerBackend    // /containers/..., /exec/...
	Events        EventsBackend       // /events
	LocalNetworks LocalNetworkBackend // bridge/host/none in /networks
	// NetworkEndpoints, when set, adds this node's containers and peers to a swarm network's inspect.
	NetworkEndpoints NetworkEndpointsBackend
	Volumes          VolumeBackend // /volumes/...

	// ServerVersion is the engine version: "Server: Docker/<ServerVersion> (linux)".
	ServerVersion string
	// MinAPIVersion is the oldest API version served (default "1.24").
	MinAPIVersion string
	// DefaultAPIVersion is the newest API version served, used for unprefixed paths and advertised in
	// the Api-Version header (default "1.51").
	DefaultAPIVersion string
	// Experimental is the value of the Docker-Experimental header.
	Experimental bool

	// Logger receives request logs at debug level and 5xx errors at error level (default: discard).
	Logger *slog.Logger
	// Now is the clock used to resolve GET /events?since&until (default time.Now).
	Now func() time.Time
}

// Defaults of Config.
const (
	DefaultMinAPIVersion = "1.24"
	DefaultAPIVersion    = "1.51"
)

// server holds the configuration the handlers share.
type server struct {
	Config
	log *slog.Logger
}

// New returns the Engine API handler: version prefixes and checks, the response headers every client
// expects, and one route per endpoint the backends serve.
func New(cfg Config) http.Handler {
	if cfg.MinAPIVersion == "" {
		cfg.MinAPIVersion = DefaultMinAPIVersion
	}
	if cfg.DefaultAPIVersion == "" {
		cfg.DefaultAPIVersion = DefaultAPIVersion
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &server{Config: cfg, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}

	r := chi.NewRouter()
	r.NotFound(notFound)
	r.MethodNotAllowed(notFound)
	r.Group(func(r chi.Router) {
		r.Use(s.checkVersion)
		s.routes(r)
	})
	return s.logRequests(s.commonHeaders(stripVersionPrefix(r)))
}

// Walk calls fn for every route of the table (method and chi pattern, without the version prefix),
// for contract checks against the Engine API swagger.
func Walk(fn func(method, pattern string) error) error {
	s := &server{log: slog.New(slog.DiscardHandler)}
	r := chi.NewRouter()
	s.routes(r)
	return chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		return fn(method, route)
	})
}

// routes is the route table; it reads like the Engine API reference.
func (s *server) routes(r chi.Router) {
	r.Options("/*", s.h(optionsHandler))

	// system
	r.Get("/_ping", s.h(s.ping))
	r.Head("/_ping", s.h(s.ping))
	r.Get("/version", s.h(s.getVersion))
	r.With(s.require("system", s.System != nil)).Get("/info", s.h(s.getInfo))
	r.With(s.require("events", s.Events != nil)).Get("/events", s.h(s.getEvents))
	r.Get("/plugins", s.h(s.getPlugins))

	r.Group(func(r chi.Router) {
		r.Use(s.require("swarm", s.Cluster != nil))

		r.Get("/swarm", s.h(s.inspectSwarm))
		r.Post("/swarm/init", s.h(s.initSwarm))
		r.Post("/swarm/join", s.h(s.joinSwarm))
		r.Post("/swarm/leave", s.h(s.leaveSwarm))
		r.Post("/swarm/update", s.h(s.updateSwarm))
		r.Get("/swarm/unlockkey", s.h(s.getUnlockKey))
		r.Post("/swarm/unlock", s.h(s.unlockSwarm))

		r.Get("/services", s.h(s.getServices))
		r.Post("/services/create", s.h(s.createService))
		r.Get("/services/{id}", s.h(s.getService))
		r.Post("/services/{id}/update", s.h(s.updateService))
		r.Delete("/services/{id}", s.h(s.removeService))
		r.Get("/services/{id}/logs", s.h(s.getServiceLogs))

		r.Get("/tasks", s.h(s.getTasks))
		r.Get("/tasks/{id}", s.h(s.getTask))
		r.Get("/tasks/{id}/logs", s.h(s.getTaskLogs))

		r.Get("/nodes", s.h(s.getNodes))
		r.Get("/nodes/{id}", s.h(s.getNode))
		r.Post("/nodes/{id}/update", s.h(s.updateNode))
		r.Delete("/nodes/{id}", s.h(s.removeNode))

		r.Get("/secrets", s.h(s.getSecrets))
		r.Post("/secrets/create", s.h(s.createSecret))
		r.Get("/secrets/{id}", s.h(s.getSecret))
		r.Post("/secrets/{id}/update", s.h(s.updateSecret))
		r.Delete("/secrets/{id}", s.h(s.removeSecret))

		r.Get("/configs", s.h(s.getConfigs))
		r.Post("/configs/create", s.h(s.createConfig))
		r.Get("/configs/{id}", s.h(s.getConfig))
		r.Post("/configs/{id}/update", s.h(s.updateConfig))
		r.Delete("/configs/{id}", s.h(s.removeConfig))
	})

	// Networks merge the swarm's and the node's own; each half is optional.
	r.Get("/networks", s.h(s.getNetworks))
	r.Get("/networks/", s.h(s.getNetworks))
	r.Get("/networks/{id}", s.h(s.getNetwork))
	r.Delete("/networks/{id}", s.h(s.removeNetwork))
	r.With(s.require("swarm", s.Cluster != nil)).Post("/networks/create", s.h(s.createNetwork))
	r.Post("/networks/prune", s.h(s.pruneNetworks))

	r.Group(func(r chi.Router) {
		r.Use(s.require("image", s.Images != nil))

		// Image names hold slashes (and a registry port), which chi's {param} cannot match:
		// /images/{name}/json, /history, /get, DELETE /images/{name} and POST /images/{name}/tag,
		// /push are dispatched by imagesByName, imagesPostByName and removeImage.
		r.Get("/images/json", s.h(s.getImages))
		r.Post("/images/create", s.h(s.createImage))
		r.Post("/images/load", s.h(s.loadImage))
		r.Post("/images/prune", s.h(s.pruneImages))
		r.Get("/images/get", s.h(s.getImagesGet))
		r.Get("/images/*", s.h(s.imagesByName))
		r.Post("/images/*", s.h(s.imagesPostByName))
		r.Delete("/images/*", s.h(s.removeImage))
		r.Get("/distribution/*", s.h(s.getDistribution))
		r.Post("/auth", s.h(s.postAuth))
	})

	r.Group(func(r chi.Router) {
		r.Use(s.require("container", s.Containers != nil))

		r.Get("/containers/json", s.h(s.getContainers))
		r.Post("/containers/prune", s.h(s.pruneContainers))
		r.Get("/containers/{name}/json", s.h(s.inspectContainer))
		r.Get("/containers/{name}/top", s.h(s.topContainer))
		r.Get("/containers/{name}/stats", s.h(s.statsContainer))
		r.Get("/containers/{name}/logs", s.h(s.getContainerLogs))
		r.Post("/containers/{name}/kill", s.h(s.killContainer))
		r.Post("/containers/{name}/stop", s.h(s.stopContainer))
		r.Post("/containers/{name}/restart", s.h(s.restartContainer))
		r.Post("/containers/{name}/wait", s.h(s.waitContainer))
		r.Post("/containers/{name}/start", s.h(s.startContainer))
		r.Post("/containers/{name}/pause", s.h(s.pauseContainer))
		r.Post("/containers/{name}/unpause", s.h(s.unpauseContainer))
		r.Delete("/containers/{name}", s.h(s.removeContainer))

		r.Post("/containers/{name}/exec", s.h(s.createExec))
		r.Post("/exec/{id}/start", s.h(s.startExec))
		r.Post("/exec/{id}/resize", s.h(s.resizeExec))
		r.Get("/exec/{id}/json", s.h(s.inspectExec))
	})

	r.Group(func(r chi.Router) {
		r.Use(s.require("volume", s.Volumes != nil))

		r.Get("/volumes", s.h(s.getVolumes))
		r.Post("/volumes/create", s.h(s.createVolume))
		r.Post("/volumes/prune", s.h(s.pruneVolumes))
		r.Get("/volumes/{name}", s.h(s.getVolume))
		r.Put("/volumes/{name}", s.h(s.updateVolume))
		r.Delete("/volumes/{name}", s.h(s.removeVolume))
	})

	// shoal builds nothing: the build cache is always empty (docker system prune asks for it).
	r.Post("/build/prune", s.h(s.pruneBuildCache))
	// Each part of the disk usage comes from its own backend; a missing one is left out.
	r.Get("/system/df", s.h(s.getDiskUsage))
}

// apiFunc is a handler that returns its error instead of writing it; see h.
type apiFunc func(w http.ResponseWriter, r *http.Request) error

// h adapts an apiFunc: it parses the query (and any urlencoded form) first and writes a returned error
// as Docker does. A handler that has started its response must not return an error.
func (s *server) h(fn apiFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := parseForm(r)
		if err == nil {
			err = fn(w, r)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	}
}

func optionsHandler(w http.ResponseWriter, _ *http.Request) error {
	w.WriteHeader(http.StatusOK)
	return nil
}
