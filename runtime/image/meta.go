package image

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/distribution/reference"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// configFile is an image config as Docker writes it: the OCI image config plus Docker's extensions
// (Healthcheck, Shell, OnBuild) and the legacy top-level fields inspect still shows.
type configFile struct {
	dockerspec.DockerOCIImage
	Comment       string `json:"comment,omitempty"`
	DockerVersion string `json:"docker_version,omitempty"`
}

// imageRecord is one stored image.
type imageRecord struct {
	id      string // "sha256:<hex>" of raw
	raw     []byte // the config exactly as pulled or loaded
	cfg     configFile
	diffIDs []string // lowest first
	meta    imageMeta
}

// imageMeta is what the store keeps about an image besides its config.
type imageMeta struct {
	Size        int64     // sum of the unpacked layer sizes
	LastTagTime time.Time `json:",omitempty"`
}

// repositoriesFile is repositories.json, in dockerd's format.
type repositoriesFile struct {
	Repositories map[string]map[string]string
}

func (s *Store) contentDir() string  { return filepath.Join(s.root, "imagedb", "content", "sha256") }
func (s *Store) metadataDir() string { return filepath.Join(s.root, "imagedb", "metadata", "sha256") }
func (s *Store) reposPath() string   { return filepath.Join(s.root, "repositories.json") }

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func hexOf(id string) string { return strings.TrimPrefix(id, "sha256:") }

// parseConfig decodes a raw image config and checks the fields the store relies on.
func parseConfig(raw []byte) (configFile, error) {
	var cfg configFile
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return cfg, fmt.Errorf("invalid image config: %w", err)
	}
	if cfg.RootFS.Type != "" && cfg.RootFS.Type != "layers" {
		return cfg, fmt.Errorf("invalid image config: unsupported rootfs type %q", cfg.RootFS.Type)
	}
	for _, d := range cfg.RootFS.DiffIDs {
		if err := d.Validate(); err != nil {
			return cfg, fmt.Errorf("invalid image config: diff id %q: %w", d, err)
		}
	}
	return cfg, nil
}

func newRecord(raw []byte, cfg configFile) *imageRecord {
	rec := &imageRecord{id: digestOf(raw), raw: raw, cfg: cfg}
	for _, d := range cfg.RootFS.DiffIDs {
		rec.diffIDs = append(rec.diffIDs, d.String())
	}
	return rec
}

// chainIDs returns the chain ID of each layer prefix of the image, lowest first (as in the OCI spec:
// ChainID(L0) = DiffID(L0), ChainID(L0..n) = sha256(ChainID(L0..n-1) + " " + DiffID(Ln))).
func (r *imageRecord) chainIDs() []string {
	var out []string
	for i, d := range r.diffIDs {
		if i == 0 {
			out = append(out, d)
			continue
		}
		out = append(out, digestOf([]byte(out[i-1]+" "+d)))
	}
	return out
}

// load reads the images and references saved on disk. Images whose config does not match its name
// or whose layers are missing are dropped with a warning.
func (s *Store) load() error {
	entries, err := os.ReadDir(s.contentDir())
	if err != nil {
		return fmt.Errorf("image store: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		rec, err := s.loadRecord(e.Name())
		if err != nil {
			s.log.Warn("image store: dropping unreadable image", "id", e.Name(), "err", err)
			continue
		}
		s.images[rec.id] = rec
	}

	data, err := os.ReadFile(s.reposPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("image store: %w", err)
	}
	var rf repositoriesFile
	if err := json.Unmarshal(data, &rf); err != nil {
		return fmt.Errorf("image store: %s: %w", s.reposPath(), err)
	}
	for _, refs := range rf.Repositories {
		for refStr, id := range refs {
			named, err := reference.ParseNormalizedNamed(refStr)
			if err != nil {
				s.log.Warn("image store: dropping invalid reference", "ref", refStr, "err", err)
				continue
			}
			if s.images[id] == nil {
				continue
			}
			s.refs[storeKey(named)] = id
		}
	}
	return nil
}

func (s *Store) loadRecord(hexID string) (*imageRecord, error) {
	raw, err := os.ReadFile(filepath.Join(s.contentDir(), hexID))
	if err != nil {
		return nil, err
	}
	if got := digestOf(raw); got != "sha256:"+hexID {
		return nil, fmt.Errorf("content digest is %s", got)
	}
	cfg, err := parseConfig(raw)
	if err != nil {
		return nil, err
	}
	rec := newRecord(raw, cfg)
	if data, err := os.ReadFile(filepath.Join(s.metadataDir(), hexID+".json")); err == nil {
		if err := json.Unmarshal(data, &rec.meta); err != nil {
			return nil, fmt.Errorf("metadata: %w", err)
		}
	}
	for _, d := range rec.diffIDs {
		if !s.layers.has(d) {
			return nil, fmt.Errorf("layer %s is missing", d)
		}
	}
	return rec, nil
}

// saveRecordLocked writes an image's config and metadata.
func (s *Store) saveRecordLocked(rec *imageRecord) error {
	hexID := hexOf(rec.id)
	content := filepath.Join(s.contentDir(), hexID)
	if _, err := os.Stat(content); err != nil {
		if err := writeFileAtomic(content, rec.raw, 0o600); err != nil {
			return err
		}
	}
	return s.saveMetaLocked(rec)
}

func (s *Store) saveMetaLocked(rec *imageRecord) error {
	data, err := json.Marshal(rec.meta)
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(s.metadataDir(), hexOf(rec.id)+".json"), data, 0o600)
}

func (s *Store) removeRecordFilesLocked(id string) error {
	hexID := hexOf(id)
	err1 := os.Remove(filepath.Join(s.metadataDir(), hexID+".json"))
	err2 := os.Remove(filepath.Join(s.contentDir(), hexID))
	for _, err := range []error{err1, err2} {
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// saveRefsLocked writes repositories.json.
func (s *Store) saveRefsLocked() error {
	rf := repositoriesFile{Repositories: map[string]map[string]string{}}
	for key, id := range s.refs {
		named, err := reference.ParseNormalizedNamed(key)
		if err != nil {
			continue
		}
		repo := reference.FamiliarName(named)
		if rf.Repositories[repo] == nil {
			rf.Repositories[repo] = map[string]string{}
		}
		rf.Repositories[repo][reference.FamiliarString(named)] = id
	}
	data, err := json.Marshal(rf)
	if err != nil {
		return err
	}
	return writeFileAtomic(s.reposPath(), data, 0o600)
}

// refsOfLocked returns the references to image id, as parsed references sorted by their string.
func (s *Store) refsOfLocked(id string) []reference.Named {
	var keys []string
	for key, rid := range s.refs {
		if rid == id {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	out := make([]reference.Named, 0, len(keys))
	for _, key := range keys {
		if named, err := reference.ParseNormalizedNamed(key); err == nil {
			out = append(out, named)
		}
	}
	return out
}

// tagsAndDigestsLocked returns an image's RepoTags and RepoDigests in Docker's familiar form; both
// are non-nil so that they encode as [] when empty.
func (s *Store) tagsAndDigestsLocked(id string) (tags, digests []string) {
	tags, digests = []string{}, []string{}
	for _, ref := range s.refsOfLocked(id) {
		switch ref.(type) {
		case reference.Canonical:
			digests = append(digests, reference.FamiliarString(ref))
		case reference.NamedTagged:
			tags = append(tags, reference.FamiliarString(ref))
		}
	}
	return tags, digests
}
