package image

import (
	"context"

	"github.com/docker/docker/api/types/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// DistributionInspect answers GET /distribution/{name}/json: the descriptor of the manifest (or
// index) the reference names in its registry, and the platforms it provides. A registry that cannot
// be reached gives its connection error (errdefs.Unknown, 500, as dockerd); a missing manifest gives
// errdefs.NotFound "manifest for x:1 not found: manifest unknown: …".
func (s *Store) DistributionInspect(ctx context.Context, ref string, authConfig *registry.AuthConfig) (*registry.DistributionInspect, error) {
	named, err := ParseReference(ref)
	if err != nil {
		return nil, err
	}
	rref, err := s.remoteRef(named)
	if err != nil {
		return nil, err
	}
	desc, err := remote.Get(rref, s.remoteOptions(ctx, authConfig)...)
	if err != nil {
		return nil, registryError(err, named)
	}
	out := &registry.DistributionInspect{
		Descriptor: ocispec.Descriptor{
			MediaType: string(desc.MediaType),
			Digest:    digest.Digest(desc.Digest.String()),
			Size:      desc.Size,
		},
		Platforms: []ocispec.Platform{},
	}
	switch {
	case desc.MediaType.IsIndex():
		_, im, err := remoteIndex(desc, named)
		if err != nil {
			return nil, err
		}
		for _, m := range im.Manifests {
			if m.Platform == nil {
				continue
			}
			out.Platforms = append(out.Platforms, ocispec.Platform{
				Architecture: m.Platform.Architecture,
				OS:           m.Platform.OS,
				OSVersion:    m.Platform.OSVersion,
				OSFeatures:   m.Platform.OSFeatures,
				Variant:      m.Platform.Variant,
			})
		}
	case desc.MediaType.IsImage():
		img, err := desc.Image()
		if err != nil {
			return nil, registryError(err, named)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, registryError(err, named)
		}
		out.Platforms = append(out.Platforms, ocispec.Platform{
			Architecture: cf.Architecture,
			OS:           cf.OS,
			OSVersion:    cf.OSVersion,
			OSFeatures:   cf.OSFeatures,
			Variant:      cf.Variant,
		})
	}
	return out, nil
}
