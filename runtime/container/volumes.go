package container

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"
)

// Named volumes of the local driver live in <data-root>/volumes/<name>/_data, as in Docker.

var volumeNameRegexp = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

func (r *Runtime) volumeDataDir(name string) string {
	return filepath.Join(r.opts.DataRoot, "volumes", name, "_data")
}

// ensureVolume creates the named volume on first use. When it is new and copyFrom is a
// non-empty directory, its content is copied in (Docker's copy-up of the image's content).
func (r *Runtime) ensureVolume(name, copyFrom string) (string, error) {
	if !volumeNameRegexp.MatchString(name) {
		return "", invalidf("create %s: %q includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path", name, name)
	}
	r.volMu.Lock()
	defer r.volMu.Unlock()
	data := r.volumeDataDir(name)
	if _, err := os.Stat(data); err == nil {
		return data, nil
	}
	if err := os.MkdirAll(filepath.Dir(data), 0o701); err != nil {
		return "", err
	}
	tmp := data + ".new"
	_ = os.RemoveAll(tmp)
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return "", err
	}
	if copyFrom != "" {
		if st, err := os.Stat(copyFrom); err == nil && st.IsDir() {
			if err := copyTree(copyFrom, tmp); err != nil {
				_ = os.RemoveAll(tmp)
				return "", fmt.Errorf("copy image content into volume %s: %w", name, err)
			}
		}
	}
	if err := os.Rename(tmp, data); err != nil {
		return "", err
	}
	return data, nil
}

// removeVolume deletes a volume's directory.
func (r *Runtime) removeVolume(name string) error {
	r.volMu.Lock()
	defer r.volMu.Unlock()
	return os.RemoveAll(filepath.Join(r.opts.DataRoot, "volumes", name))
}

func newAnonymousVolumeName() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// copyTree copies src's content into the existing directory dst, keeping modes, owners and
// symlinks. Special files other than FIFOs and devices are skipped.
func copyTree(src, dst string) error {
	if err := copyAttrs(src, dst); err != nil {
		return err
	}
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if rel == "." {
			return nil
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch mode := info.Mode(); {
		case mode.IsDir():
			if err := os.Mkdir(target, mode.Perm()); err != nil {
				return err
			}
		case mode&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, target); err != nil {
				return err
			}
		case mode.IsRegular():
			if err := copyFile(path, target, mode.Perm()); err != nil {
				return err
			}
		case mode&(fs.ModeNamedPipe|fs.ModeDevice) != 0:
			st := info.Sys().(*unix.Stat_t)
			if err := unix.Mknod(target, st.Mode, int(st.Rdev)); err != nil {
				return err
			}
		default:
			return nil
		}
		return copyAttrs(path, target)
	})
}

func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// copyAttrs copies owner, mode (not for symlinks) and times from src to dst.
func copyAttrs(src, dst string) error {
	var st unix.Stat_t
	if err := unix.Lstat(src, &st); err != nil {
		return err
	}
	if err := unix.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		if err := unix.Chmod(dst, st.Mode&0o7777); err != nil {
			return err
		}
	}
	ts := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, dst, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil && !errors.Is(err, unix.EOPNOTSUPP) {
		return err
	}
	return nil
}

// pathInRootfs resolves a container path inside the host path of its rootfs.
func pathInRootfs(rootfs, p string) (string, error) {
	return securejoin.SecureJoin(rootfs, p)
}
