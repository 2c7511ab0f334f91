package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/distribution/reference"
	"github.com/docker/docker/errdefs"
	"github.com/docker/docker/pkg/progress"
	"github.com/docker/docker/pkg/streamformatter"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// OCI annotations that name an image in an OCI layout, as written by `docker save` and containerd.
const (
	annotationImageName = "io.containerd.image.name"
	annotationRefName   = "org.opencontainers.image.ref.name"
)

// LoadImage reads a docker-archive tar (manifest.json, as `docker save` writes it) or an OCI-layout
// tar (oci-layout + index.json) from in and stores its images. It writes to out the JSON stream of
// `docker load`: "Loading layer" progress (unless quiet), then {"stream":"Loaded image: name:tag\n"}
// per tag or {"stream":"Loaded image ID: sha256:…\n"} for an untagged image.
func (s *Store) LoadImage(ctx context.Context, in io.Reader, out io.Writer, quiet bool) error {
	po := progress.DiscardOutput()
	if !quiet {
		po = streamformatter.NewJSONProgressOutput(out, false)
	}
	stdout := streamformatter.NewStdoutWriter(out)

	dir, err := os.MkdirTemp(s.tmpDir, "load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := extractArchive(ctx, in, dir); err != nil {
		return errdefs.InvalidParameter(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err == nil {
		return s.loadDockerArchive(ctx, dir, po, stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err == nil {
		return s.loadOCILayout(ctx, dir, po, stdout)
	}
	return errdefs.InvalidParameter(errors.New("invalid image archive: neither manifest.json (docker save) nor index.json (OCI layout) found"))
}

// archivePath maps a path named inside an archive to the extracted file; it cannot leave dir.
func archivePath(dir, name string) string {
	return filepath.Join(dir, filepath.Clean("/"+name))
}

type dockerManifestItem struct {
	Config   string
	RepoTags []string
	Layers   []string
}

func (s *Store) loadDockerArchive(ctx context.Context, dir string, po progress.Output, stdout io.Writer) error {
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return err
	}
	var items []dockerManifestItem
	if err := json.Unmarshal(data, &items); err != nil {
		return errdefs.InvalidParameter(fmt.Errorf("invalid manifest.json: %w", err))
	}
	if items == nil {
		return errdefs.InvalidParameter(errors.New("invalid manifest, manifest cannot be null (but can be [])"))
	}
	for _, item := range items {
		raw, err := os.ReadFile(archivePath(dir, item.Config))
		if err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("invalid image archive: %w", err))
		}
		cfg, err := parseConfig(raw)
		if err != nil {
			return errdefs.InvalidParameter(err)
		}
		rec := newRecord(raw, cfg)
		if want, got := len(item.Layers), len(rec.diffIDs); want != got {
			return errdefs.InvalidParameter(fmt.Errorf("invalid manifest, layers length mismatch: expected %d, got %d", want, got))
		}
		var tags []reference.NamedTagged
		for _, t := range item.RepoTags {
			named, err := reference.ParseNormalizedNamed(t)
			if err != nil {
				return errdefs.InvalidParameter(err)
			}
			tagged, ok := named.(reference.NamedTagged)
			if !ok {
				return errdefs.InvalidParameter(fmt.Errorf("invalid tag %q", t))
			}
			tags = append(tags, tagged)
		}
		openers := make([]func() (io.ReadCloser, int64, error), len(item.Layers))
		for i, l := range item.Layers {
			path := archivePath(dir, l)
			openers[i] = func() (io.ReadCloser, int64, error) {
				f, err := os.Open(path)
				if err != nil {
					return nil, 0, err
				}
				fi, err := f.Stat()
				if err != nil {
					f.Close()
					return nil, 0, err
				}
				return f, fi.Size(), nil
			}
		}
		if err := s.loadOne(ctx, rec, openers, tags, po, stdout); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) loadOCILayout(ctx context.Context, dir string, po progress.Output, stdout io.Writer) error {
	lp, err := layout.FromPath(dir)
	if err != nil {
		return errdefs.InvalidParameter(fmt.Errorf("invalid OCI layout: %w", err))
	}
	idx, err := lp.ImageIndex()
	if err != nil {
		return errdefs.InvalidParameter(fmt.Errorf("invalid OCI layout: %w", err))
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return errdefs.InvalidParameter(fmt.Errorf("invalid OCI layout: %w", err))
	}
	loaded := 0
	for _, desc := range im.Manifests {
		img, err := s.layoutImage(idx, desc)
		if err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("invalid OCI layout: %w", err))
		}
		if img == nil {
			continue // another platform, or not an image
		}
		raw, err := img.RawConfigFile()
		if err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("invalid OCI layout: %w", err))
		}
		cfg, err := parseConfig(raw)
		if err != nil {
			return errdefs.InvalidParameter(err)
		}
		rec := newRecord(raw, cfg)
		layers, err := img.Layers()
		if err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("invalid OCI layout: %w", err))
		}
		if want, got := len(layers), len(rec.diffIDs); want != got {
			return errdefs.InvalidParameter(fmt.Errorf("invalid manifest, layers length mismatch: expected %d, got %d", want, got))
		}
		openers := make([]func() (io.ReadCloser, int64, error), len(layers))
		for i, l := range layers {
			openers[i] = func() (io.ReadCloser, int64, error) {
				size, err := l.Size()
				if err != nil {
					return nil, 0, err
				}
				rc, err := l.Compressed()
				return rc, size, err
			}
		}
		var tags []reference.NamedTagged
		if t := layoutTag(desc.Annotations); t != nil {
			tags = append(tags, t)
		}
		if err := s.loadOne(ctx, rec, openers, tags, po, stdout); err != nil {
			return err
		}
		loaded++
	}
	if loaded == 0 {
		return errdefs.NotFound(fmt.Errorf("no image for platform %s in the OCI layout", platformString(s.platform)))
	}
	return nil
}

// layoutImage returns the image an index entry designates for the store's platform, or nil.
func (s *Store) layoutImage(idx v1.ImageIndex, desc v1.Descriptor) (v1.Image, error) {
	switch {
	case desc.MediaType.IsImage():
		if desc.Platform != nil && !platformMatches(*desc.Platform, s.platform) {
			return nil, nil
		}
		return idx.Image(desc.Digest)
	case desc.MediaType.IsIndex():
		child, err := idx.ImageIndex(desc.Digest)
		if err != nil {
			return nil, err
		}
		cm, err := child.IndexManifest()
		if err != nil {
			return nil, err
		}
		for _, m := range cm.Manifests {
			if m.MediaType.IsImage() && m.Platform != nil && platformMatches(*m.Platform, s.platform) {
				return child.Image(m.Digest)
			}
		}
	}
	return nil, nil
}

// layoutTag is the tag an OCI index entry names: the full reference in io.containerd.image.name, or
// org.opencontainers.image.ref.name when that is a full reference (a bare tag names no repository).
func layoutTag(annotations map[string]string) reference.NamedTagged {
	for _, key := range []string{annotationImageName, annotationRefName} {
		v := annotations[key]
		if v == "" {
			continue
		}
		if named, err := reference.ParseNormalizedNamed(v); err == nil {
			if tagged, ok := named.(reference.NamedTagged); ok {
				return tagged
			}
		}
	}
	return nil
}

// loadOne unpacks an image's layers and records it and its tags.
func (s *Store) loadOne(ctx context.Context, rec *imageRecord, openers []func() (io.ReadCloser, int64, error), tags []reference.NamedTagged, po progress.Output, stdout io.Writer) error {
	if rec.cfg.OS != "" && rec.cfg.OS != "linux" {
		return errdefs.InvalidParameter(fmt.Errorf("cannot load %s image on linux", rec.cfg.OS))
	}
	release := s.lease(rec.diffIDs)
	defer release()
	for i, diffID := range rec.diffIDs {
		id := shortID(diffID)
		_, err := s.layers.ensure(ctx, diffID, func() (io.ReadCloser, error) {
			rc, size, err := openers[i]()
			if err != nil {
				return nil, err
			}
			return progress.NewProgressReader(rc, po, size, id, "Loading layer"), nil
		})
		if err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("layer %d: %w", i, err))
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.addImageLocked(rec); err != nil {
		return err
	}
	rec = s.images[rec.id] // the stored record when the image was already there
	var msgs []string
	for _, t := range tags {
		// dockerd records no tag time for the tags of a load: LastTagTime stays as it was (zero).
		key := storeKey(t)
		prev := s.refs[key]
		s.refs[key] = rec.id
		if prev != "" && prev != rec.id {
			msgs = append(msgs, fmt.Sprintf("The image %s already exists, renaming the old one with ID %s to empty string\n", reference.FamiliarString(t), prev))
		}
		msgs = append(msgs, fmt.Sprintf("Loaded image: %s\n", reference.FamiliarString(t)))
	}
	if len(tags) == 0 {
		msgs = append(msgs, fmt.Sprintf("Loaded image ID: %s\n", rec.id))
	}
	if err := s.saveMetaLocked(rec); err != nil {
		return err
	}
	if err := s.saveRefsLocked(); err != nil {
		return err
	}
	for _, m := range msgs {
		if _, err := io.WriteString(stdout, m); err != nil {
			return err
		}
	}
	return nil
}

// extractArchive unpacks an image archive (not a layer) into dir. Only directories and regular
// files are created; symbolic and hard links (`docker save` links duplicate layers) are resolved
// inside the archive and materialised as hard links, so the result holds no symlink and no path
// can lead outside dir.
func extractArchive(ctx context.Context, in io.Reader, dir string) error {
	tr := tar.NewReader(ctxReader{ctx: ctx, r: in})
	links := map[string]string{} // archive path → archive path it points to
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("invalid image archive: %w", err)
		}
		rel := filepath.Clean("/" + hdr.Name)
		if rel == "/" {
			continue
		}
		target := filepath.Join(dir, rel)
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o700); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
				return err
			}
			os.Remove(target)
			f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		case tar.TypeSymlink:
			to := hdr.Linkname
			if !filepath.IsAbs(to) {
				to = filepath.Join(filepath.Dir(rel), to)
			}
			links[rel] = filepath.Clean("/" + to)
		case tar.TypeLink:
			links[rel] = filepath.Clean("/" + hdr.Linkname)
		}
	}
	for from := range links {
		to := from
		for range 16 { // follow chains of links within the archive
			next, ok := links[to]
			if !ok {
				break
			}
			to = next
		}
		src := filepath.Join(dir, to)
		fi, err := os.Lstat(src)
		if err != nil || !fi.Mode().IsRegular() {
			continue // dangling or to a directory: nothing an image archive needs
		}
		dst := filepath.Join(dir, from)
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		os.Remove(dst)
		if err := os.Link(src, dst); err != nil {
			return err
		}
	}
	return nil
}
