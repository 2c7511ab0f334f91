package image

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Options configure a Store.
type Options struct {
	// DataRoot is the daemon's --data-root; the store lives in DataRoot/image.
	DataRoot string
	// InsecureRegistries are registries reached over plain HTTP (and HTTPS without certificate
	// checks), as dockerd's --insecure-registry: "host", "host:port" or a CIDR such as "10.0.0.0/8".
	// Loopback registries (127.0.0.0/8, ::1, localhost) are always insecure, as in Docker.
	InsecureRegistries []string
	// Logger receives warnings; nil means slog.Default().
	Logger *slog.Logger
	// Users tells which containers use an image (see UsersFunc). It may also be set later with
	// SetUsers; nil means no container uses any image.
	Users UsersFunc
	// Platform is the platform pulled from multi-arch indexes when the caller names none;
	// empty means "linux/" + runtime.GOARCH.
	Platform string
}

// ContainerUse is one container that uses an image.
type ContainerUse struct {
	ID      string // full container ID
	Running bool
}

// UsersFunc lists the containers that use the image imageID ("sha256:<hex>"). The container runtime
// provides it; it is called with the store's lock held, so it must not call back into the Store.
type UsersFunc func(imageID string) []ContainerUse

// Store is the node's image store. Create it with New.
type Store struct {
	root      string // DataRoot/image
	tmpDir    string
	log       *slog.Logger
	platform  v1.Platform
	insecure  insecureSet
	transport http.RoundTripper
	layers    *layerStore
	now       func() time.Time // the clock: tag times, "until" filters

	mu     sync.Mutex
	images map[string]*imageRecord // by ID "sha256:<hex>"
	refs   map[string]string       // normalised reference string (see storeKey) → image ID
	leases map[string]int          // diffID → number of pulls/loads that are using it
	pinned map[string]bool         // diffIDs kept for images force-deleted while containers use them
	users  UsersFunc

	pruneRunning atomic.Bool // one ImagesPrune at a time, as dockerd
}

// New opens (or creates) the image store under opts.DataRoot/image and reloads the images and
// references saved there.
func New(opts Options) (*Store, error) {
	if opts.DataRoot == "" {
		return nil, errors.New("image store: DataRoot must be set")
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	platform := opts.Platform
	if platform == "" {
		platform = "linux/" + runtime.GOARCH
	}
	plat, err := parsePlatform(platform)
	if err != nil {
		return nil, err
	}
	insecure, err := newInsecureSet(opts.InsecureRegistries)
	if err != nil {
		return nil, err
	}
	root := filepath.Join(opts.DataRoot, "image")
	s := &Store{
		root:     root,
		tmpDir:   filepath.Join(root, "tmp"),
		log:      log,
		platform: plat,
		insecure: insecure,
		images:   map[string]*imageRecord{},
		refs:     map[string]string{},
		leases:   map[string]int{},
		pinned:   map[string]bool{},
		users:    opts.Users,
		now:      time.Now,
	}
	s.transport = newRegistryTransport(insecure)
	// tmp/ only ever holds work in progress of a previous run: start empty.
	if err := os.RemoveAll(s.tmpDir); err != nil {
		return nil, fmt.Errorf("image store: %w", err)
	}
	for _, d := range []string{s.tmpDir, s.contentDir(), s.metadataDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("image store: %w", err)
		}
	}
	s.layers, err = newLayerStore(filepath.Join(root, "layers", "sha256"), s.tmpDir)
	if err != nil {
		return nil, err
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// SetUsers sets the function that tells which containers use an image (for late wiring, when the
// container runtime is built after the store).
func (s *Store) SetUsers(fn UsersFunc) {
	s.mu.Lock()
	s.users = fn
	s.mu.Unlock()
}

func (s *Store) usersLocked(id string) []ContainerUse {
	if s.users == nil {
		return nil
	}
	return s.users(id)
}

// lease marks diffIDs as in use by a pull or load, so that a concurrent delete does not collect
// their layers. The returned func releases them.
func (s *Store) lease(diffIDs []string) (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leaseLocked(diffIDs)
}

// leaseLocked is lease with the store's lock held; release must be called without it.
func (s *Store) leaseLocked(diffIDs []string) (release func()) {
	for _, d := range diffIDs {
		s.leases[d]++
	}
	return func() {
		s.mu.Lock()
		for _, d := range diffIDs {
			if s.leases[d]--; s.leases[d] <= 0 {
				delete(s.leases, d)
			}
		}
		s.mu.Unlock()
	}
}

// writeFileAtomic writes data to path through a temporary file and a rename, so that a crash leaves
// either the old or the new content.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
