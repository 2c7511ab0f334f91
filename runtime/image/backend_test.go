package image_test

import (
	"github.com/shoal-project/shoal/routes"
	"github.com/shoal-project/shoal/runtime/image"
)

// Store is the node's routes.ImageBackend.
var _ routes.ImageBackend = (*image.Store)(nil)
