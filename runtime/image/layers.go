package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// layerStore keeps unpacked layers under root/<diffID hex>/diff, one directory per diffID.
type layerStore struct {
	root  string
	tmp   string
	locks keyedMutex
}

// layerInfo is layer.json; its presence marks a complete layer.
type layerInfo struct {
	DiffID string
	Size   int64
	// The layer blob as it was pulled or loaded is kept in the file "blob" (for save and push):
	// Blob is its digest, BlobSize its length, Compression "gzip", "zstd" or "" (a plain tar), and
	// TarSize the length of the uncompressed tar, whose digest is DiffID. Blob is empty for layers
	// stored before blobs were kept.
	Blob        string `json:",omitempty"`
	BlobSize    int64  `json:",omitempty"`
	Compression string `json:",omitempty"`
	TarSize     int64  `json:",omitempty"`
}

func newLayerStore(root, tmp string) (*layerStore, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("image store: %w", err)
	}
	return &layerStore{root: root, tmp: tmp}, nil
}

func (ls *layerStore) dir(diffID string) string { return filepath.Join(ls.root, hexOf(diffID)) }

// diffDir is the directory to use as an overlayfs lowerdir for the layer.
func (ls *layerStore) diffDir(diffID string) string { return filepath.Join(ls.dir(diffID), "diff") }

func (ls *layerStore) has(diffID string) bool {
	_, err := os.Stat(filepath.Join(ls.dir(diffID), "layer.json"))
	return err == nil
}

func (ls *layerStore) info(diffID string) (layerInfo, error) {
	var li layerInfo
	data, err := os.ReadFile(filepath.Join(ls.dir(diffID), "layer.json"))
	if err != nil {
		return li, err
	}
	err = json.Unmarshal(data, &li)
	return li, err
}

// list returns the diffIDs of the layer directories present (complete or not).
func (ls *layerStore) list() ([]string, error) {
	entries, err := os.ReadDir(ls.root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && len(e.Name()) == 64 {
			out = append(out, "sha256:"+e.Name())
		}
	}
	return out, nil
}

// ensure makes sure layer diffID is unpacked. When it is not, open is called (with the layer's lock
// held, so a layer is fetched and unpacked once even by concurrent pulls) and must return the layer
// blob, compressed (gzip, zstd) or not; its content must hash to diffID once decompressed. existed
// tells whether the layer was already there.
func (ls *layerStore) ensure(ctx context.Context, diffID string, open func() (io.ReadCloser, error)) (existed bool, err error) {
	if !strings.HasPrefix(diffID, "sha256:") || len(hexOf(diffID)) != 64 {
		return false, fmt.Errorf("unsupported layer diff ID %q", diffID)
	}
	unlock := ls.locks.lock(diffID)
	defer unlock()
	if ls.has(diffID) {
		return true, nil
	}
	blob, err := open()
	if err != nil {
		return false, err
	}
	defer blob.Close()

	work, err := os.MkdirTemp(ls.tmp, "layer-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(work)
	diff := filepath.Join(work, "diff")
	if err := os.Mkdir(diff, 0o755); err != nil {
		return false, err
	}
	// The blob is kept as received, for save and push.
	blobFile, err := os.Create(filepath.Join(work, blobFileName))
	if err != nil {
		return false, err
	}
	defer blobFile.Close()
	blobHash := sha256.New()
	blobCount := &countWriter{}
	src := io.TeeReader(ctxReader{ctx: ctx, r: blob}, io.MultiWriter(blobFile, blobHash, blobCount))
	tarStream, err := decompress(src)
	if err != nil {
		return false, err
	}
	defer tarStream.Close()
	h := sha256.New()
	tarCount := &countWriter{}
	tee := io.TeeReader(tarStream, io.MultiWriter(h, tarCount))
	size, err := unpackLayer(tee, diff)
	if err != nil {
		return false, err
	}
	// The diffID covers the whole stream, including the tar's end padding.
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return false, err
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != diffID {
		return false, fmt.Errorf("invalid diffID for layer: expected %q, got %q", diffID, got)
	}
	// Whatever follows the compressed stream belongs to the blob too.
	if _, err := io.Copy(io.Discard, src); err != nil {
		return false, err
	}
	if err := blobFile.Close(); err != nil {
		return false, err
	}
	compression, err := blobCompression(filepath.Join(work, blobFileName))
	if err != nil {
		return false, err
	}
	info, err := json.Marshal(layerInfo{
		DiffID: diffID, Size: size,
		Blob: "sha256:" + hex.EncodeToString(blobHash.Sum(nil)), BlobSize: blobCount.n,
		Compression: compression, TarSize: tarCount.n,
	})
	if err != nil {
		return false, err
	}
	if err := os.WriteFile(filepath.Join(work, "layer.json"), info, 0o600); err != nil {
		return false, err
	}
	if err := syncFS(work); err != nil {
		return false, err
	}
	// A previous incomplete attempt (crash before layer.json) may have left the directory.
	if err := os.RemoveAll(ls.dir(diffID)); err != nil {
		return false, err
	}
	if err := os.Rename(work, ls.dir(diffID)); err != nil {
		return false, err
	}
	return false, nil
}

// remove moves the layer out of the store (fast, under the caller's locks) and returns a func that
// deletes its files.
func (ls *layerStore) remove(diffID string) (cleanup func(), err error) {
	unlock := ls.locks.lock(diffID)
	defer unlock()
	trash, err := os.MkdirTemp(ls.tmp, "rm-")
	if err != nil {
		return nil, err
	}
	if err := os.Rename(ls.dir(diffID), filepath.Join(trash, "layer")); err != nil && !errors.Is(err, os.ErrNotExist) {
		os.RemoveAll(trash)
		return nil, err
	}
	return func() { os.RemoveAll(trash) }, nil
}

// syncFS flushes the filesystem holding dir, so that a renamed layer is complete on disk.
func syncFS(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}

// keyedMutex is a set of mutexes by key, created on demand and dropped when unused.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedEntry
}

type keyedEntry struct {
	mu   sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedEntry{}
	}
	e := k.locks[key]
	if e == nil {
		e = &keyedEntry{}
		k.locks[key] = e
	}
	e.refs++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
