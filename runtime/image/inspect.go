package image

import (
	"context"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/storage"
)

// ImageInspect answers GET /images/{name}/json in dockerd's shape. name is a reference, an image ID
// or an ID prefix; errdefs.NotFound "No such image: name:tag" otherwise.
func (s *Store) ImageInspect(ctx context.Context, name string) (*image.InspectResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.lookupLocked(name)
	if err != nil {
		return nil, err
	}
	tags, digests := s.tagsAndDigestsLocked(rec.id)
	cfg := copyConfig(rec.cfg.Config)

	comment := rec.cfg.Comment
	if comment == "" && len(rec.cfg.History) > 0 {
		comment = rec.cfg.History[len(rec.cfg.History)-1].Comment
	}
	created := ""
	if rec.cfg.Created != nil {
		created = rec.cfg.Created.Format(time.RFC3339Nano)
	}
	rootfs := image.RootFS{Type: "layers", Layers: append([]string(nil), rec.diffIDs...)}
	if rec.cfg.RootFS.Type != "" {
		rootfs.Type = rec.cfg.RootFS.Type
	}
	return &image.InspectResponse{
		ID:            rec.id,
		RepoTags:      tags,
		RepoDigests:   digests,
		Parent:        "",
		Comment:       comment,
		Created:       created,
		DockerVersion: rec.cfg.DockerVersion,
		Author:        rec.cfg.Author,
		Config:        &cfg,
		Architecture:  rec.cfg.Architecture,
		Variant:       rec.cfg.Variant,
		Os:            rec.cfg.OS,
		OsVersion:     rec.cfg.OSVersion,
		Size:          rec.meta.Size,
		GraphDriver:   storage.DriverData{Name: "overlay2", Data: s.graphDriverDataLocked(rec)},
		RootFS:        rootfs,
		Metadata:      image.Metadata{LastTagTime: rec.meta.LastTagTime},
	}, nil
}

// graphDriverDataLocked describes the image's layers as dockerd's overlay2 driver does: the
// top-most layer as UpperDir, the others (top-most first) as LowerDir.
func (s *Store) graphDriverDataLocked(rec *imageRecord) map[string]string {
	img := s.imageLocked(rec)
	n := len(img.LayerDirs)
	if n == 0 {
		return map[string]string{}
	}
	data := map[string]string{"UpperDir": img.LayerDirs[n-1]}
	if n > 1 {
		lower := &Image{LayerDirs: img.LayerDirs[:n-1]}
		data["LowerDir"] = lower.LowerDir()
	}
	return data
}
