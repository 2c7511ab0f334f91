package image

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/docker/docker/errdefs"
)

// blobFileName is the file, next to a layer's diff/, that holds the layer blob as pulled or loaded.
const blobFileName = "blob"

// countWriter counts the bytes written to it.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// blobCompression tells the compression of the blob file at path: "gzip", "zstd" or "" (plain).
func blobCompression(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	magic := make([]byte, 4)
	n, _ := io.ReadFull(f, magic)
	switch {
	case bytes.HasPrefix(magic[:n], gzipMagic):
		return "gzip", nil
	case bytes.HasPrefix(magic[:n], zstdMagic):
		return "zstd", nil
	}
	return "", nil
}

// blobInfo returns the layer's layer.json, or an error when the layer's blob was not kept.
func (ls *layerStore) blobInfo(diffID string) (layerInfo, error) {
	li, err := ls.info(diffID)
	if err != nil {
		return li, errdefs.NotFound(fmt.Errorf("layer %s does not exist", diffID))
	}
	if li.Blob == "" {
		return li, errdefs.Unavailable(fmt.Errorf("layer %s was stored without its original content: pull or load the image again", diffID))
	}
	return li, nil
}

// openBlob opens the layer's blob as stored (compressed as li.Compression says).
func (ls *layerStore) openBlob(diffID string) (io.ReadCloser, layerInfo, error) {
	li, err := ls.blobInfo(diffID)
	if err != nil {
		return nil, li, err
	}
	f, err := os.Open(filepath.Join(ls.dir(diffID), blobFileName))
	if err != nil {
		return nil, li, err
	}
	return f, li, nil
}

// openTar opens the layer's uncompressed tar, whose digest is diffID; its length is li.TarSize.
func (ls *layerStore) openTar(diffID string) (io.ReadCloser, layerInfo, error) {
	f, li, err := ls.openBlob(diffID)
	if err != nil {
		return nil, li, err
	}
	rc, err := decompress(f)
	if err != nil {
		f.Close()
		return nil, li, err
	}
	return readCloser{Reader: rc, close: func() error { rc.Close(); return f.Close() }}, li, nil
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }
