package containerapi

import (
	"context"
	"time"

	"github.com/shoal-project/shoal/runtime/container"
	"github.com/shoal-project/shoal/runtime/image"
)

// Backend is the node's containers as the Engine API shows them. Its methods are safe for
// concurrent use and return errors classified with errdefs, with Docker's texts.
type Backend struct {
	rt     *container.Runtime
	images *image.Store
	execs  *execRegistry
	now    func() time.Time

	containerPrune, volumePrune pruning
}

// New makes the backend over a container runtime and the image store its containers come from.
func New(rt *container.Runtime, images *image.Store) *Backend {
	return &Backend{rt: rt, images: images, execs: newExecRegistry(), now: time.Now}
}

// ImageUsers lists the containers made from the image imageID ("sha256:<hex>"); it is the
// image store's UsersFunc (image.Store.SetUsers). It does not call into the image store.
func (b *Backend) ImageUsers(imageID string) []image.ContainerUse {
	var out []image.ContainerUse
	for _, c := range b.rt.List() {
		if c.Spec.ImageID == imageID {
			out = append(out, image.ContainerUse{ID: c.ID, Running: c.State.Status == container.StatusRunning})
		}
	}
	return out
}

// get finds a container by full ID, name (with or without "/") or unique ID prefix:
// errdefs.NotFound "No such container: ref" otherwise.
func (b *Backend) get(ref string) (*container.Container, error) {
	return b.rt.Get(ref)
}

// imageRef is what the API shows as a container's image: the reference it was made from, or the
// image ID when that reference no longer names the same image (as dockerd's refreshImage does).
func (b *Backend) imageRef(ctx context.Context, c *container.Container) string {
	ref := c.Spec.Image
	if ref == "" {
		return c.Spec.ImageID
	}
	if b.images == nil || c.Spec.ImageID == "" {
		return ref
	}
	img, err := b.images.Resolve(ctx, ref)
	if err != nil || img.ID != c.Spec.ImageID {
		return c.Spec.ImageID
	}
	return ref
}
