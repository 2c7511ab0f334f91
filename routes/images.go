package routes

import (
	"net/http"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/api/types/versions"
	"github.com/docker/docker/errdefs"
	"github.com/docker/docker/pkg/streamformatter"
	"github.com/go-chi/chi/v5"
	"github.com/opencontainers/go-digest"
)

// createImage pulls fromImage[:tag] and streams the JSON progress. An error before the first byte is an
// ordinary error response; after it, a JSON message with errorDetail ends the stream, as dockerd.
func (s *server) createImage(w http.ResponseWriter, r *http.Request) error {
	from, tag := r.Form.Get("fromImage"), r.Form.Get("tag")
	if from == "" {
		return errdefs.NotImplemented(plainError("importing images (fromSrc) is not supported"))
	}
	ref, err := pullReference(from, tag)
	if err != nil {
		return err
	}
	platform := ""
	if versions.GreaterThanOrEqualTo(s.apiVersion(r), "1.32") {
		platform = r.FormValue("platform")
	}
	w.Header().Set("Content-Type", "application/json")
	out := newFlushWriter(w)
	if tag == "" && reference.IsNameOnly(ref) {
		// no tag: every tag of the repository (`docker pull --all-tags`), as dockerd
		err = s.Images.PullAllTags(r.Context(), ref.String(), platform, registryAuth(r), out)
	} else {
		err = s.Images.PullImage(r.Context(), reference.TagNameOnly(ref).String(), platform, registryAuth(r), out)
	}
	return out.end(err)
}

// pullReference normalises fromImage and tag into one reference ("busybox" + "1" →
// docker.io/library/busybox:1); a tag may be a digest. Without a tag the reference stays a bare
// repository name, which means all its tags (the CLI always sends tag, "latest" by default).
func pullReference(from, tag string) (reference.Named, error) {
	ref, err := reference.ParseNormalizedNamed(strings.TrimSuffix(from, ":"))
	if err != nil {
		return nil, errdefs.InvalidParameter(err)
	}
	if tag != "" {
		if dgst, derr := digest.Parse(tag); derr == nil {
			ref, err = reference.WithDigest(reference.TrimNamed(ref), dgst)
		} else {
			ref, err = reference.WithTag(ref, tag)
		}
		if err != nil {
			return nil, errdefs.InvalidParameter(err)
		}
	}
	if reference.FamiliarName(ref) == "scratch" {
		return nil, errdefs.Forbidden(plainError("'scratch' is a reserved name"))
	}
	return ref, nil
}

// loadImage reads a docker-archive or OCI tar from the body; errors always go in the stream.
func (s *server) loadImage(w http.ResponseWriter, r *http.Request) error {
	quiet := boolValueOrDefault(r, "quiet", true)
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{}) // archives may be large
	w.Header().Set("Content-Type", "application/json")
	out := newFlushWriter(w)
	if err := s.Images.LoadImage(r.Context(), r.Body, out, quiet); err != nil {
		_, _ = out.Write(streamformatter.FormatError(err))
	}
	return nil
}

func (s *server) getImages(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFilters(r, imageFilters)
	if err != nil {
		return err
	}
	v := s.apiVersion(r)
	opts := image.ListOptions{All: boolValue(r, "all"), Filters: f}
	if versions.GreaterThanOrEqualTo(v, "1.42") {
		opts.SharedSize = boolValue(r, "shared-size")
	}
	if versions.GreaterThanOrEqualTo(v, "1.47") {
		opts.Manifests = boolValue(r, "manifests")
	}
	list, err := s.Images.Images(r.Context(), opts)
	if err != nil {
		return err
	}
	for i := range list {
		img := &list[i]
		if versions.LessThan(v, "1.43") {
			if len(img.RepoTags) == 0 && len(img.RepoDigests) == 0 {
				img.RepoTags = []string{"<none>:<none>"}
				img.RepoDigests = []string{"<none>@<none>"}
			}
		}
		img.RepoTags, img.RepoDigests = nonNil(img.RepoTags), nonNil(img.RepoDigests)
		if versions.LessThan(v, "1.44") {
			img.VirtualSize = img.Size //nolint:staticcheck // still sent to API < 1.44
		}
		if versions.LessThan(v, "1.48") {
			img.Descriptor = nil
		}
		if versions.LessThan(v, "1.51") {
			img.Containers = -1
		}
	}
	return writeJSON(w, http.StatusOK, nonNil(list))
}

// imagesByName dispatches GET /images/{name}/json, whose name may hold slashes.
func (s *server) imagesByName(w http.ResponseWriter, r *http.Request) error {
	name, ok := strings.CutSuffix(chi.URLParam(r, "*"), "/json")
	if !ok || name == "" {
		return s.imagesGetMore(w, r) // history, get (images_more.go)
	}
	img, err := s.Images.ImageInspect(r.Context(), name)
	if err != nil {
		return err
	}
	if img == nil {
		return errdefs.NotFound(plainError("No such image: %s", name))
	}
	cp := *img
	cp.RepoTags, cp.RepoDigests = nonNil(cp.RepoTags), nonNil(cp.RepoDigests)
	return writeJSON(w, http.StatusOK, cp)
}

// removeImage answers DELETE /images/{name} with the list of untagged and deleted items.
func (s *server) removeImage(w http.ResponseWriter, r *http.Request) error {
	name := chi.URLParam(r, "*")
	if strings.TrimSpace(name) == "" {
		return invalidParam("image name cannot be blank")
	}
	list, err := s.Images.ImageDelete(r.Context(), name, boolValue(r, "force"), !boolValue(r, "noprune"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(list))
}

// postAuth answers POST /auth: `docker login` asks the daemon to check the credentials.
func (s *server) postAuth(w http.ResponseWriter, r *http.Request) error {
	var cfg registry.AuthConfig
	if err := readJSON(r, &cfg); err != nil {
		return err
	}
	status, token, err := s.Images.Auth(r.Context(), &cfg)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, registry.AuthenticateOKBody{Status: status, IdentityToken: token})
}

// getDistribution answers GET /distribution/{name}/json, name being any reference (slashes, a registry
// port, a tag or digest).
func (s *server) getDistribution(w http.ResponseWriter, r *http.Request) error {
	name, ok := strings.CutSuffix(chi.URLParam(r, "*"), "/json")
	if !ok || name == "" {
		notFound(w, r)
		return nil
	}
	ref, err := reference.ParseAnyReference(name)
	if err != nil {
		return errdefs.InvalidParameter(err)
	}
	named, ok := ref.(reference.Named)
	if !ok {
		if _, isDigest := ref.(reference.Digested); isDigest {
			return plainError("no manifest found for full image ID")
		}
		return invalidParam("unknown image reference format: %s", name)
	}
	info, err := s.Images.DistributionInspect(r.Context(), named.String(), registryAuth(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, info)
}
