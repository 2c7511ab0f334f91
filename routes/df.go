package routes

import (
	"net/http"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/versions"
	"golang.org/x/sync/errgroup"
)

// getDiskUsage answers GET /system/df as dockerd's system router: the images (with their shared
// sizes and container counts) and LayersSize, every container with its sizes, the volumes with
// their UsageData, and the build cache, which is always empty here. From API 1.42 the type
// parameter (container, image, volume, build-cache; repeatable) picks the parts; the others are
// null. A part whose backend this daemon lacks is null too.
func (s *server) getDiskUsage(w http.ResponseWriter, r *http.Request) error {
	version := s.apiVersion(r)
	want := map[types.DiskUsageObject]bool{}
	typeValues, typed := r.Form["type"]
	if versions.LessThan(version, "1.42") || !typed {
		for _, t := range []types.DiskUsageObject{types.ContainerObject, types.ImageObject, types.VolumeObject, types.BuildCacheObject} {
			want[t] = true
		}
	} else {
		for _, t := range typeValues {
			switch o := types.DiskUsageObject(t); o {
			case types.ContainerObject, types.ImageObject, types.VolumeObject, types.BuildCacheObject:
				want[o] = true
			default:
				return invalidParam("unknown object type: %s", t)
			}
		}
	}

	var du types.DiskUsage
	g, ctx := errgroup.WithContext(r.Context())
	if want[types.ContainerObject] && s.Containers != nil {
		g.Go(func() error {
			list, err := s.Containers.Containers(ctx, container.ListOptions{All: true, Size: true})
			if err != nil {
				return err
			}
			du.Containers = make([]*container.Summary, len(list))
			for i := range list {
				c := list[i]
				c.ImageManifestDescriptor = nil // not part of the disk usage, as dockerd
				du.Containers[i] = &c
			}
			return nil
		})
	}
	if want[types.ImageObject] && s.Images != nil {
		g.Go(func() error {
			list, err := s.Images.Images(ctx, image.ListOptions{SharedSize: true})
			if err != nil {
				return err
			}
			du.Images = make([]*image.Summary, len(list))
			for i := range list {
				img := list[i]
				img.RepoTags, img.RepoDigests = nonNil(img.RepoTags), nonNil(img.RepoDigests)
				if img.Labels == nil {
					img.Labels = map[string]string{} // the contract requires the member; dockerd may send null
				}
				if versions.LessThan(version, "1.44") {
					img.VirtualSize = img.Size //nolint:staticcheck // still sent to API < 1.44
				}
				du.Images[i] = &img
			}
			return nil
		})
		g.Go(func() error {
			size, err := s.Images.LayersSize(ctx)
			du.LayersSize = size
			return err
		})
	}
	if want[types.VolumeObject] && s.Volumes != nil {
		g.Go(func() error {
			vols, err := s.Volumes.VolumesDiskUsage(ctx)
			du.Volumes = nonNil(vols)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if want[types.BuildCacheObject] {
		du.BuildCache = []*build.CacheRecord{}
	}
	return writeJSON(w, http.StatusOK, du)
}
