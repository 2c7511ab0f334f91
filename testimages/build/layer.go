package build

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// BusyboxPath is where Debian's busybox-static package installs busybox.
const BusyboxPath = "/bin/busybox"

// File is one entry of a layer.
type File struct {
	Path string // absolute path inside the image, e.g. /bin/sh
	Mode int64  // permission bits; 0 means 0644 for files and 0755 for directories
	Data []byte // contents of a regular file
	Link string // symlink target: when set, the entry is a symlink
	Dir  bool   // the entry is a directory
}

// Layer builds a layer from files. Parent directories that are not listed
// are added (0755). Entries are sorted by path and carry the fixed build
// time, so equal inputs give equal digests.
func Layer(files []File) (v1.Layer, error) {
	entries := map[string]File{}
	for _, f := range files {
		p := path.Clean("/" + f.Path)
		if p == "/" {
			continue
		}
		f.Path = p
		entries[p] = f
		for dir := path.Dir(p); dir != "/"; dir = path.Dir(dir) {
			if _, ok := entries[dir]; !ok {
				entries[dir] = File{Path: dir, Dir: true}
			}
		}
	}
	paths := make([]string, 0, len(entries))
	for p := range entries {
		paths = append(paths, p)
	}
	sort.Strings(paths)

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range paths {
		f := entries[p]
		h := &tar.Header{Name: strings.TrimPrefix(p, "/"), ModTime: buildTime, Mode: f.Mode, Format: tar.FormatPAX}
		switch {
		case f.Link != "":
			h.Typeflag, h.Linkname = tar.TypeSymlink, f.Link
			if h.Mode == 0 {
				h.Mode = 0o777
			}
		case f.Dir:
			h.Typeflag, h.Name = tar.TypeDir, h.Name+"/"
			if h.Mode == 0 {
				h.Mode = 0o755
			}
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.Data))
			if h.Mode == 0 {
				h.Mode = 0o644
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("build: tar header %s: %w", p, err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(f.Data); err != nil {
				return nil, fmt.Errorf("build: tar %s: %w", p, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithCompressedCaching)
}

// ProgramLayer is a layer holding one executable at path.
func ProgramLayer(path string, data []byte) (v1.Layer, error) {
	return Layer([]File{{Path: path, Mode: 0o755, Data: data}})
}

// BusyboxFiles returns /bin/busybox (read from the host, where Debian's
// busybox-static puts it) and one symlink to it per applet, at the paths
// `busybox --list-full` gives.
func BusyboxFiles() ([]File, error) {
	data, err := os.ReadFile(BusyboxPath)
	if err != nil {
		return nil, fmt.Errorf("build: %w (install Debian's busybox-static)", err)
	}
	out, err := exec.Command(BusyboxPath, "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("build: busybox --list-full: %w", err)
	}
	files := []File{{Path: BusyboxPath, Mode: 0o755, Data: data}}
	for _, applet := range strings.Fields(string(out)) {
		p := "/" + applet
		if !strings.Contains(applet, "/") || p == BusyboxPath {
			continue // linuxrc and busybox itself
		}
		files = append(files, File{Path: p, Link: BusyboxPath})
	}
	return files, nil
}

// baseFiles are the few files every image gets besides busybox.
func baseFiles() []File {
	return []File{
		{Path: "/etc/passwd", Data: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		{Path: "/etc/group", Data: []byte("root:x:0:\nnogroup:x:65534:\n")},
		{Path: "/tmp", Dir: true, Mode: 0o1777},
		{Path: "/root", Dir: true, Mode: 0o700},
		{Path: "/var/tmp", Dir: true, Mode: 0o1777},
		{Path: "/proc", Dir: true},
		{Path: "/sys", Dir: true},
		{Path: "/dev", Dir: true},
		{Path: "/etc/hostname", Data: nil},
		{Path: "/etc/hosts", Data: []byte("127.0.0.1\tlocalhost\n")},
		{Path: "/etc/resolv.conf", Data: nil},
	}
}

var base struct {
	once  sync.Once
	layer v1.Layer
	err   error
}

// BaseLayer is busybox (BusyboxFiles) plus /etc/passwd, /etc/group, /tmp and
// the usual mount points. It is built once per process.
func BaseLayer() (v1.Layer, error) {
	base.once.Do(func() {
		files, err := BusyboxFiles()
		if err != nil {
			base.err = err
			return
		}
		base.layer, base.err = Layer(append(files, baseFiles()...))
	})
	return base.layer, base.err
}
