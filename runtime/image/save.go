package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/docker/errdefs"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// saveItem is one image of a save and the tags it is saved under.
type saveItem struct {
	rec  *imageRecord
	tags []reference.NamedTagged
}

// ExportImage implements GET /images/get and /images/{name}/get (`docker save`): it writes to out a
// tar holding the images names designate, in the format of dockerd 25+: a docker-archive
// (manifest.json, repositories) that is also an OCI layout (oci-layout, index.json,
// blobs/sha256/…), the layers as uncompressed tars named by their diffID. A name is a reference
// ("busybox:1"), a repository name (all its tags), an image ID or an ID prefix. Every name is
// resolved before anything is written, so an unknown name is an ordinary error
// (errdefs.NotFound "reference does not exist" for a tag, "No such image: x" otherwise); an error
// after the first byte must be written into the stream by the caller.
func (s *Store) ExportImage(ctx context.Context, names []string, out io.Writer) error {
	items, release, err := s.resolveSave(names)
	if err != nil {
		return err
	}
	defer release()
	return s.writeSaveTar(ctx, items, out)
}

// resolveSave finds the images to save and leases their layers; release ends the lease.
func (s *Store) resolveSave(names []string) (items []*saveItem, release func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byID := map[string]*saveItem{}
	add := func(rec *imageRecord, ref reference.Named) {
		it := byID[rec.id]
		if it == nil {
			it = &saveItem{rec: rec}
			byID[rec.id] = it
			items = append(items, it)
		}
		tagged, ok := ref.(reference.NamedTagged)
		if !ok {
			return
		}
		if _, canonical := ref.(reference.Canonical); canonical {
			return
		}
		for _, t := range it.tags {
			if t.String() == tagged.String() {
				return
			}
		}
		it.tags = append(it.tags, tagged)
	}
	for _, name := range names {
		ref, err := reference.ParseAnyReference(name)
		if err != nil {
			return nil, nil, errdefs.InvalidParameter(err)
		}
		named, ok := ref.(reference.Named)
		if !ok {
			rec, err := s.lookupLocked(name)
			if err != nil {
				return nil, nil, err
			}
			add(rec, nil)
			continue
		}
		if reference.IsNameOnly(named) && reference.FamiliarName(named) != string(digest.Canonical) {
			found := false
			for _, r := range s.allRefsLocked() {
				if r.Name() == named.Name() {
					if rec := s.images[s.refs[storeKey(r)]]; rec != nil {
						add(rec, r)
						found = true
					}
				}
			}
			if found {
				continue
			}
			rec := s.searchIDLocked(name)
			if rec == nil {
				// as dockerd: the name as given, without a default tag
				return nil, nil, errdefs.NotFound(fmt.Errorf("No such image: %s", reference.FamiliarString(named)))
			}
			add(rec, nil)
			continue
		}
		if reference.FamiliarName(named) == string(digest.Canonical) {
			rec := s.searchIDLocked(name)
			if rec == nil {
				return nil, nil, errNoSuchImage(named)
			}
			add(rec, nil)
			continue
		}
		id, ok := s.refs[storeKey(named)]
		rec := s.images[id]
		if !ok || rec == nil {
			return nil, nil, errdefs.NotFound(errors.New("reference does not exist"))
		}
		add(rec, normalize(named))
	}
	var diffIDs []string
	for _, it := range items {
		diffIDs = append(diffIDs, it.rec.diffIDs...)
	}
	return items, s.leaseLocked(diffIDs), nil
}

// allRefsLocked returns every stored reference, sorted by its string.
func (s *Store) allRefsLocked() []reference.Named {
	keys := make([]string, 0, len(s.refs))
	for k := range s.refs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]reference.Named, 0, len(keys))
	for _, k := range keys {
		if named, err := reference.ParseNormalizedNamed(k); err == nil {
			out = append(out, named)
		}
	}
	return out
}

// saveManifestItem is one entry of a docker-archive's manifest.json.
type saveManifestItem struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// tarWriter writes the entries of a save archive with dockerd's fixed attributes.
type tarWriter struct {
	tw   *tar.Writer
	dirs map[string]bool
}

var epoch = time.Unix(0, 0)

func (w *tarWriter) dir(name string) error {
	if w.dirs[name] {
		return nil
	}
	w.dirs[name] = true
	return w.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX})
}

func (w *tarWriter) file(name string, data []byte) error {
	if err := w.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: epoch, Format: tar.FormatPAX}); err != nil {
		return err
	}
	_, err := w.tw.Write(data)
	return err
}

func blobPath(d string) string { return path.Join("blobs", "sha256", hexOf(d)) }

func (s *Store) writeSaveTar(ctx context.Context, items []*saveItem, out io.Writer) error {
	w := &tarWriter{tw: tar.NewWriter(out), dirs: map[string]bool{}}
	if err := w.dir("blobs"); err != nil {
		return err
	}
	if err := w.dir("blobs/sha256"); err != nil {
		return err
	}
	var (
		manifest []saveManifestItem
		index    []ocispec.Descriptor
		repos    = map[string]map[string]string{}
		written  = map[string]bool{}
	)
	for _, it := range items {
		rec := it.rec
		if !written[rec.id] {
			written[rec.id] = true
			if err := w.file(blobPath(rec.id), rec.raw); err != nil {
				return err
			}
		}
		item := saveManifestItem{Config: blobPath(rec.id), RepoTags: []string{}, Layers: []string{}}
		var layerDescs []ocispec.Descriptor
		for _, d := range rec.diffIDs {
			li, err := s.layers.blobInfo(d)
			if err != nil {
				return err
			}
			if !written[d] {
				written[d] = true
				if err := s.writeLayerTar(ctx, w, d); err != nil {
					return err
				}
			}
			item.Layers = append(item.Layers, blobPath(d))
			layerDescs = append(layerDescs, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.Digest(d), Size: li.TarSize})
		}
		m, err := json.Marshal(ocispec.Manifest{
			Versioned: specs.Versioned{SchemaVersion: 2},
			MediaType: ocispec.MediaTypeImageManifest,
			Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.Digest(rec.id), Size: int64(len(rec.raw))},
			Layers:    nonNilDescs(layerDescs),
		})
		if err != nil {
			return err
		}
		md := digestOf(m)
		if !written[md] {
			written[md] = true
			if err := w.file(blobPath(md), m); err != nil {
				return err
			}
		}
		desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.Digest(md), Size: int64(len(m))}
		for _, t := range it.tags {
			item.RepoTags = append(item.RepoTags, reference.FamiliarString(t))
			repo := reference.FamiliarName(t)
			if repos[repo] == nil {
				repos[repo] = map[string]string{}
			}
			if n := len(rec.diffIDs); n > 0 {
				repos[repo][t.Tag()] = hexOf(rec.diffIDs[n-1])
			}
			tagged := desc
			tagged.Annotations = map[string]string{annotationImageName: t.String(), ocispec.AnnotationRefName: t.Tag()}
			index = append(index, tagged)
		}
		if len(it.tags) == 0 {
			index = append(index, desc)
		}
		manifest = append(manifest, item)
	}
	idx, err := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: index})
	if err != nil {
		return err
	}
	if err := w.file(ocispec.ImageIndexFile, idx); err != nil {
		return err
	}
	mf, err := json.Marshal(manifest)
	if err != nil {
		return err
	}
	if err := w.file("manifest.json", append(mf, '\n')); err != nil {
		return err
	}
	if err := w.file(ocispec.ImageLayoutFile, []byte(`{"imageLayoutVersion": "`+ocispec.ImageLayoutVersion+`"}`)); err != nil {
		return err
	}
	if len(repos) > 0 {
		rf, err := json.Marshal(repos)
		if err != nil {
			return err
		}
		if err := w.file("repositories", append(rf, '\n')); err != nil {
			return err
		}
	}
	return w.tw.Close()
}

// writeLayerTar writes a layer's uncompressed tar as blobs/sha256/<diffID hex>.
func (s *Store) writeLayerTar(ctx context.Context, w *tarWriter, diffID string) error {
	rc, li, err := s.layers.openTar(diffID)
	if err != nil {
		return err
	}
	defer rc.Close()
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: blobPath(diffID), Mode: 0o644, Size: li.TarSize, ModTime: epoch, Format: tar.FormatPAX}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return err
	}
	n, err := io.Copy(w.tw, ctxReader{ctx: ctx, r: rc})
	if err != nil {
		return err
	}
	if n != li.TarSize {
		return fmt.Errorf("layer %s: stored content is %d bytes, expected %d", diffID, n, li.TarSize)
	}
	return nil
}

func nonNilDescs(d []ocispec.Descriptor) []ocispec.Descriptor {
	if d == nil {
		return []ocispec.Descriptor{}
	}
	return d
}
