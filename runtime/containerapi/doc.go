// Package containerapi serves the Engine API's container endpoints (GET /containers/json,
// inspect, top, stats, logs, kill, stop, restart, rm, prune) and exec endpoints over the node's
// libcontainer runtime (runtime/container) and image store (runtime/image), in dockerd's shapes
// and with its texts. It implements routes.ContainerBackend without importing routes, and
// routes.VolumeBackend: the /volumes endpoints over the runtime's local volumes (list, inspect,
// create, rm, prune) and their disk usage for GET /system/df.
//
// It also tells the image store which containers use an image (ImageUsers, image.UsersFunc), so
// that `docker rmi` refuses an image a task runs. Swarm task logs are read by the executor
// (runtime/executor) for the node's agent, with the same LogOptions.
//
// Execs live in memory: an exec ID is valid while this process runs.
package containerapi
