package containerapi

import (
	"context"

	containertypes "github.com/docker/docker/api/types/container"

	"github.com/shoal-project/shoal/runtime/container"
)

// sizer fills the sizes of GET /containers/json?size=1 (and of GET /system/df): SizeRw is the
// size of the container's writable layer, SizeRootFs that plus its image's. Image sizes are
// looked up once per listing.
type sizer struct {
	b      *Backend
	images map[string]int64
}

func (z *sizer) fill(ctx context.Context, c *container.Container, s *containertypes.Summary) {
	rw, err := container.DirSize(ctx, c.UpperDir)
	if err != nil {
		return
	}
	s.SizeRw = rw
	s.SizeRootFs = rw + z.imageSize(ctx, c.Spec.ImageID)
}

func (z *sizer) imageSize(ctx context.Context, id string) int64 {
	if size, ok := z.images[id]; ok {
		return size
	}
	var size int64
	if z.b.images != nil && id != "" {
		if img, err := z.b.images.ImageInspect(ctx, id); err == nil && img != nil {
			size = img.Size
		}
	}
	if z.images == nil {
		z.images = map[string]int64{}
	}
	z.images[id] = size
	return size
}
