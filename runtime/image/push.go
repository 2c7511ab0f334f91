package image

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/errdefs"
	"github.com/docker/docker/pkg/progress"
	"github.com/docker/docker/pkg/streamformatter"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"
)

// parallelUploads is how many layers of one push are sent at once (dockerd's default is 5).
const parallelUploads = 5

// pushTarget is one tag to push and the image it names.
type pushTarget struct {
	tag reference.NamedTagged
	rec *imageRecord
}

// PushImage implements POST /images/{name}/push (`docker push`): ref is "repo:tag" (one tag) or a
// bare repository name (all its tags). It writes dockerd's JSON progress stream to out: "The push
// refers to repository [127.0.0.1:5000/app]", per layer "Preparing", "Pushing", "Pushed" or "Layer
// already exists", then "<tag>: digest: sha256:… size: N" and an aux message {"Tag","Digest","Size"}
// per tag; the pushed manifest's digest is recorded as a RepoDigest. A malformed reference is
// returned before anything is written; every other error comes after the first message (the
// caller writes it into the stream): "An image does not exist locally with the tag: x",
// "tag does not exist: x:1", the registry's errors.
func (s *Store) PushImage(ctx context.Context, ref string, authConfig *registry.AuthConfig, out io.Writer) error {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return errdefs.InvalidParameter(err)
	}
	if _, ok := named.(reference.Canonical); ok {
		return errdefs.InvalidParameter(errors.New("cannot push a digest reference"))
	}
	po := streamformatter.NewJSONProgressOutput(out, false)
	repoName := reference.TrimNamed(named)
	progress.Messagef(po, "", "The push refers to repository [%s]", repoName.Name())

	targets, release, err := s.pushTargets(named)
	if err != nil {
		return err
	}
	defer release()

	rref, err := s.remoteRef(reference.TagNameOnly(repoName))
	if err != nil {
		return err
	}
	repo := rref.Context()
	pusher, err := remote.NewPusher(s.remoteOptions(ctx, authConfig)...)
	if err != nil {
		return errdefs.Unknown(err)
	}
	rt, err := transport.NewWithContext(ctx, repo.Registry, authenticator(authConfig), s.transport, []string{repo.Scope(transport.PushScope)})
	if err != nil {
		return pushError(err, named)
	}
	for _, t := range targets {
		if err := s.pushTag(ctx, pusher, &http.Client{Transport: rt}, repo, t, po); err != nil {
			return err
		}
	}
	return nil
}

// pushTargets lists the tags to push and leases their layers.
func (s *Store) pushTargets(named reference.Named) ([]pushTarget, func(), error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var targets []pushTarget
	repoRefs := 0
	for _, r := range s.allRefsLocked() {
		if r.Name() != named.Name() {
			continue
		}
		repoRefs++
		tagged, ok := r.(reference.NamedTagged)
		if !ok {
			continue
		}
		if _, canonical := r.(reference.Canonical); canonical {
			continue
		}
		if t, ok := named.(reference.NamedTagged); ok && t.Tag() != tagged.Tag() {
			continue
		}
		if rec := s.images[s.refs[storeKey(r)]]; rec != nil {
			targets = append(targets, pushTarget{tag: tagged, rec: rec})
		}
	}
	if repoRefs == 0 {
		return nil, nil, errdefs.NotFound(fmt.Errorf("An image does not exist locally with the tag: %s", reference.FamiliarName(named)))
	}
	if len(targets) == 0 {
		if _, ok := named.(reference.NamedTagged); ok {
			return nil, nil, errdefs.NotFound(fmt.Errorf("tag does not exist: %s", reference.FamiliarString(named)))
		}
		return nil, nil, errdefs.NotFound(fmt.Errorf("no tags to push for %s", reference.FamiliarName(named)))
	}
	var diffIDs []string
	for _, t := range targets {
		diffIDs = append(diffIDs, t.rec.diffIDs...)
	}
	return targets, s.leaseLocked(diffIDs), nil
}

// pushTag uploads an image's layers (top-most first, as dockerd reports them) and config, then its
// manifest under the tag.
func (s *Store) pushTag(ctx context.Context, pusher *remote.Pusher, client *http.Client, repo name.Repository, t pushTarget, po progress.Output) error {
	rec := t.rec
	layers := make([]*pushLayer, len(rec.diffIDs))
	for i := len(rec.diffIDs) - 1; i >= 0; i-- {
		progress.Update(po, shortID(rec.diffIDs[i]), "Preparing")
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelUploads)
	for i := len(rec.diffIDs) - 1; i >= 0; i-- {
		g.Go(func() error {
			l, err := s.newPushLayer(rec.diffIDs[i])
			if err != nil {
				return err
			}
			layers[i] = l
			id := shortID(l.diffID)
			exists, err := blobExists(gctx, client, repo, l.digest)
			if err != nil {
				return pushError(err, t.tag)
			}
			if exists {
				progress.Update(po, id, "Layer already exists")
				return nil
			}
			l.progress = func(rc io.ReadCloser) io.ReadCloser {
				return progress.NewProgressReader(rc, po, l.size, id, "Pushing")
			}
			if err := pusher.Upload(gctx, repo, l); err != nil {
				return pushError(err, t.tag)
			}
			progress.Update(po, id, "Pushed")
			return nil
		})
	}
	err := g.Wait()
	for _, l := range layers {
		if l != nil {
			l.cleanup()
		}
	}
	if err != nil {
		return err
	}
	cfg := &pushLayer{digest: v1.Hash{Algorithm: "sha256", Hex: hexOf(rec.id)}, size: int64(len(rec.raw)), mediaType: types.DockerConfigJSON,
		open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(rec.raw)), nil }}
	if err := pusher.Upload(ctx, repo, cfg); err != nil {
		return pushError(err, t.tag)
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.DockerManifestSchema2,
		Config:        v1.Descriptor{MediaType: types.DockerConfigJSON, Size: cfg.size, Digest: cfg.digest},
		Layers:        []v1.Descriptor{},
	}
	for _, l := range layers {
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: types.DockerLayer, Size: l.size, Digest: l.digest})
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tag := repo.Tag(t.tag.Tag())
	if err := pusher.Put(ctx, tag, rawManifest{raw: raw, mediaType: types.DockerManifestSchema2}); err != nil {
		return pushError(err, t.tag)
	}
	dgst := digestOf(raw)
	progress.Messagef(po, "", "%s: digest: %s size: %d", t.tag.Tag(), dgst, len(raw))
	if err := s.addDigestRef(t.tag, dgst, rec.id); err != nil {
		return err
	}
	progress.Aux(po, pushResult{Tag: t.tag.Tag(), Digest: dgst, Size: len(raw)})
	return nil
}

// pushResult is the aux message of a pushed tag (types.PushResult in the Docker API).
type pushResult struct {
	Tag    string
	Digest string
	Size   int
}

// addDigestRef records repo@digest for a pushed image, as dockerd does.
func (s *Store) addDigestRef(tag reference.Named, dgst, id string) error {
	ref, err := reference.ParseNormalizedNamed(reference.TrimNamed(tag).String() + "@" + dgst)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.images[id] == nil {
		return nil // deleted meanwhile
	}
	s.refs[storeKey(ref)] = id
	return s.saveRefsLocked()
}

// blobExists asks the registry whether repo has the blob.
func blobExists(ctx context.Context, client *http.Client, repo name.Repository, dgst v1.Hash) (bool, error) {
	u := fmt.Sprintf("%s://%s/v2/%s/blobs/%s", repo.Registry.Scheme(), repo.RegistryStr(), repo.RepositoryStr(), dgst)
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u, nil)
	if err != nil {
		return false, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	}
	return false, transport.CheckError(resp, http.StatusOK, http.StatusNotFound)
}

// rawManifest is a manifest to put as is.
type rawManifest struct {
	raw       []byte
	mediaType types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mediaType, nil }

// pushLayer is a blob to upload (a gzip-compressed layer or the config), as go-containerregistry's
// v1.Layer.
type pushLayer struct {
	diffID    string
	digest    v1.Hash
	size      int64
	mediaType types.MediaType
	open      func() (io.ReadCloser, error)
	progress  func(io.ReadCloser) io.ReadCloser
	tmp       string // a compressed copy to remove after the push
}

// newPushLayer returns a stored layer as a gzip blob: the blob as pulled when it is gzip, else the
// layer compressed into a temporary file.
func (s *Store) newPushLayer(diffID string) (*pushLayer, error) {
	li, err := s.layers.blobInfo(diffID)
	if err != nil {
		return nil, err
	}
	l := &pushLayer{diffID: diffID, mediaType: types.DockerLayer}
	if li.Compression == "gzip" {
		h, err := v1.NewHash(li.Blob)
		if err != nil {
			return nil, err
		}
		l.digest, l.size = h, li.BlobSize
		l.open = func() (io.ReadCloser, error) { rc, _, err := s.layers.openBlob(diffID); return rc, err }
		return l, nil
	}
	rc, _, err := s.layers.openTar(diffID)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	f, err := os.CreateTemp(s.tmpDir, "push-")
	if err != nil {
		return nil, err
	}
	l.tmp = f.Name()
	zw := gzip.NewWriter(f)
	_, err = io.Copy(zw, rc)
	if err == nil {
		err = zw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(l.tmp)
		return nil, err
	}
	data, err := os.Open(l.tmp)
	if err != nil {
		os.Remove(l.tmp)
		return nil, err
	}
	h, n, err := v1.SHA256(data)
	data.Close()
	if err != nil {
		os.Remove(l.tmp)
		return nil, err
	}
	l.digest, l.size = h, n
	l.open = func() (io.ReadCloser, error) { return os.Open(l.tmp) }
	return l, nil
}

func (l *pushLayer) cleanup() {
	if l.tmp != "" {
		os.Remove(l.tmp)
	}
}

func (l *pushLayer) Digest() (v1.Hash, error) { return l.digest, nil }
func (l *pushLayer) DiffID() (v1.Hash, error) {
	if l.diffID == "" {
		return l.digest, nil
	}
	return v1.NewHash(l.diffID)
}
func (l *pushLayer) Size() (int64, error)                { return l.size, nil }
func (l *pushLayer) MediaType() (types.MediaType, error) { return l.mediaType, nil }
func (l *pushLayer) Compressed() (io.ReadCloser, error) {
	rc, err := l.open()
	if err != nil || l.progress == nil {
		return rc, err
	}
	return l.progress(rc), nil
}
func (l *pushLayer) Uncompressed() (io.ReadCloser, error) {
	return nil, errors.New("image store: uncompressed content of a push blob is not available")
}

// pushError is Docker's text for a registry error during a push: the registry's error code and
// message ("denied: requested access to the resource is denied"), or what registryError gives.
func pushError(err error, named reference.Named) error {
	var terr *transport.Error
	if errors.As(err, &terr) && len(terr.Errors) > 0 {
		d := terr.Errors[0]
		msg := strings.ToLower(strings.ReplaceAll(string(d.Code), "_", " ")) + ": " + d.Message
		if terr.StatusCode == http.StatusUnauthorized {
			return errdefs.Unauthorized(errors.New(msg))
		}
		if terr.StatusCode == http.StatusForbidden {
			return errdefs.Forbidden(errors.New(msg))
		}
		return errdefs.Unknown(errors.New(msg))
	}
	return registryError(err, named)
}
