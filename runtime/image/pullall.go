package image

import (
	"context"
	"errors"
	"io"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/errdefs"
	"github.com/docker/docker/pkg/streamformatter"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// PullAllTags implements `docker pull --all-tags repo` (POST /images/create with fromImage=repo and
// no tag): it pulls every tag the registry lists for repo, in the registry's order, writing each
// tag's progress as PullImage does and one final "Status: Downloaded newer image for repo" (or
// "Image is up to date for repo"), as dockerd. repo must be a repository name without tag or
// digest (errdefs.InvalidParameter otherwise). Errors before anything is written (listing the tags,
// the first manifest) let the caller answer with an HTTP error.
func (s *Store) PullAllTags(ctx context.Context, repo string, platform string, authConfig *registry.AuthConfig, out io.Writer) error {
	named, err := reference.ParseNormalizedNamed(repo)
	if err != nil {
		return errdefs.InvalidParameter(err)
	}
	if !reference.IsNameOnly(named) {
		return errdefs.InvalidParameter(errors.New("pull of all tags needs a repository name without tag or digest"))
	}
	var plat *v1.Platform
	if platform != "" {
		p, err := parsePlatform(platform)
		if err != nil {
			return err
		}
		plat = &p
	}
	rref, err := s.remoteRef(reference.TagNameOnly(named))
	if err != nil {
		return err
	}
	tags, err := remote.List(rref.Context(), s.remoteOptions(ctx, authConfig)...)
	if err != nil {
		return registryError(err, named)
	}
	po := streamformatter.NewJSONProgressOutput(out, false)
	downloaded := false
	for _, tag := range tags {
		tagged, err := reference.WithTag(named, tag)
		if err != nil {
			return errdefs.InvalidParameter(err)
		}
		_, pulledNew, err := s.pullTag(ctx, tagged, plat, authConfig, po)
		if err != nil {
			return err
		}
		downloaded = downloaded || pulledNew
	}
	writePullStatus(po, named, downloaded)
	return nil
}
