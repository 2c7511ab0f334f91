package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"
)

const (
	whiteoutPrefix = ".wh."
	whiteoutMeta   = ".wh..wh."
	whiteoutOpaque = ".wh..wh..opq"
	opaqueXattr    = "trusted.overlay.opaque"
)

// unpackLayer extracts a layer tar into dir (an empty directory), converting OCI whiteouts to
// overlayfs form: ".wh.name" becomes a character device 0:0 named "name", ".wh..wh..opq" sets
// trusted.overlay.opaque=y on its directory. It returns the total size of the regular files.
//
// It never writes outside dir: entry names are cleaned as if rooted at dir, the parent directory of
// each entry is resolved with symlinks evaluated inside dir (as in a chroot), and the last component
// is never followed (an existing entry is replaced, files are created with O_EXCL|O_NOFOLLOW).
// Hard links may only point to entries inside dir.
func unpackLayer(r io.Reader, dir string) (int64, error) {
	tr := tar.NewReader(r)
	var size int64
	type dirAttrs struct {
		path string
		hdr  *tar.Header
	}
	var dirs []dirAttrs
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("reading layer tar: %w", err)
		}
		rel := filepath.Clean("/" + hdr.Name)
		if rel == "/" {
			continue // the layer root itself keeps the store's attributes
		}
		parentRel, base := filepath.Split(rel)
		parent, err := securejoin.SecureJoin(dir, parentRel)
		if err != nil {
			return 0, fmt.Errorf("layer entry %q: %w", hdr.Name, err)
		}
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return 0, fmt.Errorf("layer entry %q: %w", hdr.Name, err)
		}

		if strings.HasPrefix(base, whiteoutPrefix) {
			if err := applyWhiteout(parent, base, hdr); err != nil {
				return 0, fmt.Errorf("layer entry %q: %w", hdr.Name, err)
			}
			continue
		}

		target := filepath.Join(parent, base)
		if fi, err := os.Lstat(target); err == nil {
			if !(fi.IsDir() && hdr.Typeflag == tar.TypeDir) {
				if err := os.RemoveAll(target); err != nil {
					return 0, err
				}
			}
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.Mkdir(target, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
				return 0, err
			}
		case tar.TypeReg:
			f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
			if err != nil {
				return 0, err
			}
			n, err := io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return 0, fmt.Errorf("layer entry %q: %w", hdr.Name, err)
			}
			size += n
		case tar.TypeSymlink:
			if err := os.Symlink(hdr.Linkname, target); err != nil {
				return 0, err
			}
			size += int64(len(hdr.Linkname)) // a link's own size, as Docker counts a layer's files
		case tar.TypeLink:
			src, err := linkSource(dir, hdr.Linkname)
			if err != nil {
				return 0, fmt.Errorf("layer entry %q: %w", hdr.Name, err)
			}
			if err := os.Link(src, target); err != nil {
				return 0, err
			}
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			mode := uint32(hdr.Mode & 0o7777)
			switch hdr.Typeflag {
			case tar.TypeChar:
				mode |= unix.S_IFCHR
			case tar.TypeBlock:
				mode |= unix.S_IFBLK
			default:
				mode |= unix.S_IFIFO
			}
			if err := unix.Mknod(target, mode, int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))); err != nil {
				return 0, fmt.Errorf("layer entry %q: mknod: %w", hdr.Name, err)
			}
		default:
			continue // global headers and types a layer does not carry
		}
		if hdr.Typeflag == tar.TypeLink {
			continue // a hard link shares the attributes of its source
		}
		if err := setAttrs(target, hdr); err != nil {
			return 0, fmt.Errorf("layer entry %q: %w", hdr.Name, err)
		}
		if hdr.Typeflag == tar.TypeDir {
			dirs = append(dirs, dirAttrs{target, hdr})
		} else if err := setTimes(target, hdr); err != nil {
			return 0, fmt.Errorf("layer entry %q: %w", hdr.Name, err)
		}
	}
	// Directory times last: creating entries inside a directory changes its mtime.
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := setTimes(dirs[i].path, dirs[i].hdr); err != nil && !errors.Is(err, os.ErrNotExist) {
			return 0, err
		}
	}
	return size, nil
}

// applyWhiteout converts an OCI whiteout entry named base in the directory parent.
func applyWhiteout(parent, base string, hdr *tar.Header) error {
	if base == whiteoutOpaque {
		return unix.Lsetxattr(parent, opaqueXattr, []byte("y"), 0)
	}
	if strings.HasPrefix(base, whiteoutMeta) {
		return nil // other AUFS metadata (.wh..wh.plnk, ...) has no overlayfs meaning
	}
	name := strings.TrimPrefix(base, whiteoutPrefix)
	if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
		return fmt.Errorf("invalid whiteout name %q", base)
	}
	target := filepath.Join(parent, name)
	if err := os.RemoveAll(target); err != nil {
		return err
	}
	if err := unix.Mknod(target, unix.S_IFCHR, int(unix.Mkdev(0, 0))); err != nil {
		return fmt.Errorf("whiteout: %w", err)
	}
	return os.Lchown(target, hdr.Uid, hdr.Gid)
}

// linkSource resolves a hard link's target inside dir; it must be an existing non-directory.
func linkSource(dir, linkname string) (string, error) {
	rel := filepath.Clean("/" + linkname)
	parentRel, base := filepath.Split(rel)
	parent, err := securejoin.SecureJoin(dir, parentRel)
	if err != nil {
		return "", err
	}
	src := filepath.Join(parent, base)
	fi, err := os.Lstat(src)
	if err != nil {
		return "", fmt.Errorf("hard link target %q: %w", linkname, err)
	}
	if fi.IsDir() || rel == "/" {
		return "", fmt.Errorf("hard link target %q is a directory", linkname)
	}
	return src, nil
}

// setAttrs applies owner, extended attributes and mode (in that order: chown clears set-id bits).
func setAttrs(path string, hdr *tar.Header) error {
	if err := os.Lchown(path, hdr.Uid, hdr.Gid); err != nil {
		return err
	}
	for key, value := range hdr.PAXRecords {
		attr, ok := strings.CutPrefix(key, "SCHILY.xattr.")
		if !ok {
			continue
		}
		if err := unix.Lsetxattr(path, attr, []byte(value), 0); err != nil &&
			!errors.Is(err, unix.ENOTSUP) && !errors.Is(err, unix.EPERM) {
			return fmt.Errorf("setxattr %s: %w", attr, err)
		}
	}
	if hdr.Typeflag == tar.TypeSymlink {
		return nil
	}
	return os.Chmod(path, hdr.FileInfo().Mode()&(os.ModePerm|os.ModeSetuid|os.ModeSetgid|os.ModeSticky))
}

// setTimes sets access and modification times without following a symlink.
func setTimes(path string, hdr *tar.Header) error {
	atime := hdr.AccessTime
	if atime.IsZero() {
		atime = hdr.ModTime
	}
	ts := []unix.Timespec{timespec(atime), timespec(hdr.ModTime)}
	return unix.UtimesNanoAt(unix.AT_FDCWD, path, ts, unix.AT_SYMLINK_NOFOLLOW)
}

func timespec(t time.Time) unix.Timespec {
	if t.IsZero() || t.Before(time.Unix(0, 0)) {
		return unix.Timespec{}
	}
	return unix.NsecToTimespec(t.UnixNano())
}
