package routes

import (
	"errors"
	"net/http"
	"strings"

	"github.com/distribution/reference"
	"github.com/docker/docker/errdefs"
	"github.com/go-chi/chi/v5"
	"github.com/opencontainers/go-digest"
)

// imageSubresource splits a /images/* path into the image name, which may hold slashes and a
// registry port, and the action after it: "busy/box:1/history" → ("busy/box:1", "history").
func imageSubresource(path string) (name, action string, ok bool) {
	i := strings.LastIndexByte(path, '/')
	if i <= 0 || i == len(path)-1 {
		return "", "", false
	}
	return path[:i], path[i+1:], true
}

// imagesGetMore dispatches GET /images/{name}/history and /images/{name}/get; any other path is
// not found.
func (s *server) imagesGetMore(w http.ResponseWriter, r *http.Request) error {
	name, action, ok := imageSubresource(chi.URLParam(r, "*"))
	switch {
	case ok && action == "history":
		return s.imageHistory(w, r, name)
	case ok && action == "get":
		return s.saveImages(w, r, []string{name})
	}
	notFound(w, r)
	return nil
}

// imagesPostByName dispatches POST /images/{name}/tag and /images/{name}/push.
func (s *server) imagesPostByName(w http.ResponseWriter, r *http.Request) error {
	name, action, ok := imageSubresource(chi.URLParam(r, "*"))
	switch {
	case ok && action == "tag":
		return s.tagImage(w, r, name)
	case ok && action == "push":
		return s.pushImage(w, r, name)
	}
	notFound(w, r)
	return nil
}

// repoTagReference is dockerd's httputils.RepoTagReference: repo and tag as one tagged reference
// (latest when tag is empty); nil for an empty repo.
func repoTagReference(repo, tag string) (reference.NamedTagged, error) {
	if repo == "" {
		return nil, nil
	}
	ref, err := reference.ParseNormalizedNamed(repo)
	if err != nil {
		return nil, err
	}
	if _, isDigested := ref.(reference.Digested); isDigested {
		return nil, errors.New("cannot import digest reference")
	}
	if tag != "" {
		return reference.WithTag(ref, tag)
	}
	tagged, ok := reference.TagNameOnly(ref).(reference.NamedTagged)
	if !ok {
		return nil, plainError("unexpected reference: %q", ref.String())
	}
	return tagged, nil
}

// tagImage answers POST /images/{name}/tag?repo=&tag= with 201.
func (s *server) tagImage(w http.ResponseWriter, r *http.Request, name string) error {
	ref, err := repoTagReference(r.Form.Get("repo"), r.Form.Get("tag"))
	if err != nil {
		return errdefs.InvalidParameter(err)
	}
	if ref == nil {
		return invalidParam("repository name must have at least one component")
	}
	if reference.FamiliarName(ref) == string(digest.Canonical) {
		return invalidParam("refusing to create an ambiguous tag using digest algorithm as name")
	}
	if err := s.Images.TagImage(r.Context(), name, ref.String()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

// imageHistory answers GET /images/{name}/history.
func (s *server) imageHistory(w http.ResponseWriter, r *http.Request, name string) error {
	list, err := s.Images.ImageHistory(r.Context(), name)
	if err != nil {
		return err
	}
	for i := range list {
		list[i].Tags = nonNil(list[i].Tags)
	}
	return writeJSON(w, http.StatusOK, nonNil(list))
}

// getImagesGet answers GET /images/get?names=a&names=b.
func (s *server) getImagesGet(w http.ResponseWriter, r *http.Request) error {
	return s.saveImages(w, r, r.Form["names"])
}

// saveImages streams the tar of `docker save`. An error before the first byte is an ordinary error
// response; after it, a JSON error message ends the stream, as dockerd.
func (s *server) saveImages(w http.ResponseWriter, r *http.Request, names []string) error {
	if len(r.Form["platform"]) > 1 {
		return invalidParam("multiple platform parameters not supported")
	}
	out := newFlushWriter(w)
	w.Header().Set("Content-Type", "application/x-tar")
	return out.end(s.Images.ExportImage(r.Context(), names, out))
}

// pushImage answers POST /images/{name}/push?tag= with the JSON progress of the push; an empty tag
// pushes every tag of the repository.
func (s *server) pushImage(w http.ResponseWriter, r *http.Request, name string) error {
	var ref reference.Named
	if tag := r.Form.Get("tag"); tag != "" {
		tagged, err := repoTagReference(name, tag)
		if err != nil {
			return errdefs.InvalidParameter(err)
		}
		ref = tagged
	} else {
		named, err := reference.ParseNormalizedNamed(name)
		if err != nil {
			return errdefs.InvalidParameter(err)
		}
		ref = named
	}
	w.Header().Set("Content-Type", "application/json")
	out := newFlushWriter(w)
	return out.end(s.Images.PushImage(r.Context(), ref.String(), registryAuth(r), out))
}
