// Package containerapi serves the Engine API's container endpoints (GET /containers/json,
// inspect, top, stats, logs, kill, stop, restart, rm) and exec endpoints over the node's
// libcontainer runtime (runtime/container) and image store (runtime/image), in dockerd's shapes
// and with its texts. It implements routes.ContainerBackend without importing routes.
//
// It also reads the logs of swarm task containers for the manager's service logs
// (TaskLogs, control.TaskLogSource) and tells the image store which containers use an image
// (ImageUsers, image.UsersFunc), so that `docker rmi` refuses an image a task runs.
//
// Execs live in memory: an exec ID is valid while this process runs.
package containerapi
