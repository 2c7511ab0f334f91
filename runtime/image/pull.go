package image

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/errdefs"
	"github.com/docker/docker/pkg/progress"
	"github.com/docker/docker/pkg/streamformatter"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"
)

// parallelDownloads is how many layers of one pull are fetched at once (dockerd's default is 3).
const parallelDownloads = 3

// PullImage pulls ref ("busybox", "busybox:1", "127.0.0.1:5000/app@sha256:…") for platform
// ("" = the store's platform) and writes the JSON progress stream the docker CLI renders to out:
// "Pulling from library/busybox", per layer "Pulling fs layer", "Downloading", "Download complete",
// "Extracting", "Pull complete" (or "Already exists"), then "Digest: sha256:…" and
// "Status: Downloaded newer image for busybox:latest" / "Status: Image is up to date for …".
// Errors returned before anything is written (bad reference, registry errors on the manifest) let
// the caller answer with an HTTP error; later errors must be written into the stream by the caller.
func (s *Store) PullImage(ctx context.Context, ref string, platform string, authConfig *registry.AuthConfig, out io.Writer) error {
	named, err := ParseReference(ref)
	if err != nil {
		return err
	}
	var plat *v1.Platform
	if platform != "" {
		p, err := parsePlatform(platform)
		if err != nil {
			return err
		}
		plat = &p
	}
	_, err = s.pull(ctx, named, plat, authConfig, streamformatter.NewJSONProgressOutput(out, false))
	return err
}

// remoteImage is the image a reference designates in a registry, resolved to one platform.
type remoteImage struct {
	img            v1.Image
	manifestDigest string // of what the reference names: the index for a multi-arch image
	raw            []byte // config
	cfg            configFile
	layers         []v1.Layer
}

// remoteIndex reads a manifest list (image index) fetched from a registry.
func remoteIndex(desc *remote.Descriptor, named reference.Named) (v1.ImageIndex, *v1.IndexManifest, error) {
	idx, err := desc.ImageIndex()
	if err != nil {
		return nil, nil, registryError(err, named)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, nil, registryError(err, named)
	}
	return idx, im, nil
}

// fetchManifest resolves named in its registry to one image for platform (nil: the store's
// platform, and then a single-platform image is taken whatever its platform, as dockerd does).
func (s *Store) fetchManifest(ctx context.Context, named reference.Named, platform *v1.Platform, ac *registry.AuthConfig) (*remoteImage, error) {
	plat := s.platform
	if platform != nil {
		plat = *platform
	}
	ref, err := s.remoteRef(named)
	if err != nil {
		return nil, err
	}
	desc, err := remote.Get(ref, s.remoteOptions(ctx, ac)...)
	if err != nil {
		return nil, registryError(err, named)
	}
	ri := &remoteImage{manifestDigest: desc.Digest.String()}
	switch {
	case desc.MediaType.IsIndex():
		idx, im, err := remoteIndex(desc, named)
		if err != nil {
			return nil, err
		}
		var child *v1.Descriptor
		for i := range im.Manifests {
			m := &im.Manifests[i]
			if m.Platform != nil && m.MediaType.IsImage() && platformMatches(*m.Platform, plat) {
				child = m
				break
			}
		}
		if child == nil {
			return nil, errdefs.NotFound(fmt.Errorf("no matching manifest for %s in the manifest list entries", platformString(plat)))
		}
		if ri.img, err = idx.Image(child.Digest); err != nil {
			return nil, registryError(err, named)
		}
	case desc.MediaType.IsImage():
		if ri.img, err = desc.Image(); err != nil {
			return nil, registryError(err, named)
		}
	default:
		return nil, errdefs.InvalidParameter(fmt.Errorf("unsupported media type %s", desc.MediaType))
	}
	if ri.raw, err = ri.img.RawConfigFile(); err != nil {
		return nil, registryError(err, named)
	}
	if ri.cfg, err = parseConfig(ri.raw); err != nil {
		return nil, errdefs.InvalidParameter(err)
	}
	if ri.cfg.OS != "" && ri.cfg.OS != "linux" {
		return nil, errdefs.InvalidParameter(fmt.Errorf("image operating system %q cannot be used on this platform", ri.cfg.OS))
	}
	if platform != nil && !desc.MediaType.IsIndex() {
		have := v1.Platform{OS: ri.cfg.OS, Architecture: ri.cfg.Architecture, Variant: ri.cfg.Variant}
		if !platformMatches(have, plat) {
			return nil, errdefs.NotFound(fmt.Errorf("image with reference %s was found but its platform (%s) does not match the specified platform (%s)",
				reference.FamiliarString(named), platformString(have), platformString(plat)))
		}
	}
	if ri.layers, err = ri.img.Layers(); err != nil {
		return nil, registryError(err, named)
	}
	if want, got := len(ri.cfg.RootFS.DiffIDs), len(ri.layers); want != got {
		return nil, errdefs.InvalidParameter(fmt.Errorf("invalid manifest, layers length mismatch: expected %d, got %d", want, got))
	}
	return ri, nil
}

// pull fetches named into the store for platform (nil: the store's), writing progress to po,
// ending with the "Status: …" line. It returns the image ID.
func (s *Store) pull(ctx context.Context, named reference.Named, platform *v1.Platform, ac *registry.AuthConfig, po progress.Output) (string, error) {
	id, downloaded, err := s.pullTag(ctx, named, platform, ac, po)
	if err != nil {
		return "", err
	}
	writePullStatus(po, named, downloaded)
	return id, nil
}

// writePullStatus writes the last line of a pull: "Status: Downloaded newer image for x" when
// anything was downloaded or tagged, else "Status: Image is up to date for x".
func writePullStatus(po progress.Output, named reference.Named, downloaded bool) {
	if downloaded {
		progress.Message(po, "", "Status: Downloaded newer image for "+reference.FamiliarString(named))
	} else {
		progress.Message(po, "", "Status: Image is up to date for "+reference.FamiliarString(named))
	}
}

// pullTag fetches one tag or digest of a repository, as pull without the status line. It returns
// the image ID and whether anything new was downloaded or tagged.
func (s *Store) pullTag(ctx context.Context, named reference.Named, platform *v1.Platform, ac *registry.AuthConfig, po progress.Output) (string, bool, error) {
	ri, err := s.fetchManifest(ctx, named, platform, ac)
	if err != nil {
		return "", false, err
	}
	tagOrDigest := ""
	switch r := named.(type) {
	case reference.Canonical:
		tagOrDigest = r.Digest().String()
	case reference.Tagged:
		tagOrDigest = r.Tag()
	}
	progress.Message(po, tagOrDigest, "Pulling from "+reference.Path(named)) // dockerd names the repository by its path

	rec := newRecord(ri.raw, ri.cfg)
	release := s.lease(rec.diffIDs)
	defer release()

	s.mu.Lock()
	_, have := s.images[rec.id]
	s.mu.Unlock()
	if !have {
		if err := s.pullLayers(ctx, named, ri.layers, rec.diffIDs, po); err != nil {
			return "", false, err
		}
	}
	progress.Message(po, "", "Digest: "+ri.manifestDigest)

	downloaded, err := s.commitPull(rec, named, ri.manifestDigest)
	if err != nil {
		return "", false, err
	}
	return rec.id, downloaded, nil
}

// pullLayers makes sure every layer is unpacked, downloading the missing ones in parallel.
func (s *Store) pullLayers(ctx context.Context, named reference.Named, layers []v1.Layer, diffIDs []string, po progress.Output) error {
	type job struct {
		layer  v1.Layer
		diffID string
		id     string // progress ID: short digest of the blob
	}
	var jobs []job
	for i, l := range layers {
		dg, err := l.Digest()
		if err != nil {
			return registryError(err, named)
		}
		j := job{layer: l, diffID: diffIDs[i], id: shortID(dg.String())}
		if s.layers.has(j.diffID) {
			progress.Update(po, j.id, "Already exists")
			continue
		}
		progress.Update(po, j.id, "Pulling fs layer")
		jobs = append(jobs, j)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelDownloads)
	for _, j := range jobs {
		g.Go(func() error {
			existed, err := s.layers.ensure(gctx, j.diffID, func() (io.ReadCloser, error) {
				return s.download(gctx, j.layer, j.id, po)
			})
			if err != nil {
				return registryError(err, named)
			}
			if existed {
				progress.Update(po, j.id, "Already exists")
			} else {
				progress.Update(po, j.id, "Pull complete")
			}
			return nil
		})
	}
	return g.Wait()
}

// download fetches a layer blob (verified against its digest) to a temporary file, and returns it
// for extraction, reporting "Extracting" progress; closing it removes the file.
func (s *Store) download(ctx context.Context, l v1.Layer, id string, po progress.Output) (io.ReadCloser, error) {
	size, err := l.Size()
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(s.tmpDir, "blob-")
	if err != nil {
		rc.Close()
		return nil, err
	}
	pr := progress.NewProgressReader(io.NopCloser(ctxReader{ctx: ctx, r: rc}), po, size, id, "Downloading")
	_, err = io.Copy(f, pr)
	rc.Close() // reports a digest mismatch only at EOF, which Copy reached
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	progress.Update(po, id, "Verifying Checksum")
	progress.Update(po, id, "Download complete")
	return &tempFile{ReadCloser: progress.NewProgressReader(f, po, size, id, "Extracting"), path: f.Name()}, nil
}

// tempFile is a reader over a temporary file that removes the file when closed.
type tempFile struct {
	io.ReadCloser
	path string
}

func (t *tempFile) Close() error {
	err := t.ReadCloser.Close()
	os.Remove(t.path)
	return err
}

// commitPull records a pulled image and its references, as dockerd's puller does: a pull by tag
// tags the image and records repo@manifestDigest; a pull by digest records only the digest. It
// reports whether anything new was downloaded or tagged (false: "Image is up to date").
func (s *Store) commitPull(rec *imageRecord, named reference.Named, manifestDigest string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.addImageLocked(rec); err != nil {
		return false, err
	}
	digestRef, err := reference.ParseNormalizedNamed(reference.TrimNamed(named).String() + "@" + manifestDigest)
	if err != nil {
		return false, err
	}
	key := storeKey(named)
	if old, ok := s.refs[key]; ok && old == rec.id {
		s.refs[storeKey(digestRef)] = rec.id
		return false, s.saveRefsLocked()
	}
	s.refs[storeKey(digestRef)] = rec.id
	s.refs[key] = rec.id
	return true, s.saveRefsLocked()
}

// addImageLocked stores rec (whose layers must all be unpacked) unless it is already stored.
func (s *Store) addImageLocked(rec *imageRecord) error {
	if _, ok := s.images[rec.id]; ok {
		return nil
	}
	var size int64
	for _, d := range rec.diffIDs {
		li, err := s.layers.info(d)
		if err != nil {
			return fmt.Errorf("layer %s: %w", d, err)
		}
		size += li.Size
	}
	rec.meta.Size = size
	if err := s.saveRecordLocked(rec); err != nil {
		return err
	}
	s.images[rec.id] = rec
	return nil
}

// setTagLocked points a tag at an image and records the time, as `docker tag` does.
func (s *Store) setTagLocked(named reference.Named, rec *imageRecord, now time.Time) (previous string) {
	key := storeKey(named)
	previous = s.refs[key]
	s.refs[key] = rec.id
	rec.meta.LastTagTime = now
	return previous
}
