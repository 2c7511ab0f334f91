package containerapi

import "github.com/shoal-project/shoal/routes"

// Backend serves the node's container, exec and volume endpoints.
var (
	_ routes.ContainerBackend = (*Backend)(nil)
	_ routes.VolumeBackend    = (*Backend)(nil)
)
