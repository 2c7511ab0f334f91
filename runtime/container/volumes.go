package container

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/docker/docker/errdefs"
	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// Named volumes of the local driver live in <data-root>/volumes/<name>/_data, as in Docker. A
// volume created with driver options (see volumeopts.go) keeps them in <name>/opts.json, and its
// _data is the mount point of that file system while a container uses it.

var volumeNameRegexp = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

func (r *Runtime) volumeDir(name string) string {
	return filepath.Join(r.opts.DataRoot, "volumes", name)
}

func (r *Runtime) volumeDataDir(name string) string {
	return filepath.Join(r.volumeDir(name), "_data")
}

// ensureVolume creates the named volume on first use, with the local driver's options opts and
// the labels. When it is new, is no mount and copyFrom is a non-empty directory, copyFrom's
// content is copied in (Docker's copy-up of the image's content; populateVolume does it for a
// mount). The options and labels are checked and kept only for a new volume: those of a volume
// that exists are not looked at, as in Docker. A non-empty ref (a container ID) is recorded as a
// user of the volume, in the same critical section, so that the volume cannot be removed between
// its creation and its use.
func (r *Runtime) ensureVolume(name, ref, copyFrom string, opts, labels map[string]string) (string, error) {
	if len(name) == 1 {
		return "", invalidf("create %s: volume name is too short, names should be at least two alphanumeric characters", name)
	}
	if !volumeNameRegexp.MatchString(name) {
		return "", invalidf("create %s: %q includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path", name, name)
	}
	r.volMu.Lock()
	defer r.volMu.Unlock()
	data := r.volumeDataDir(name)
	if _, err := os.Stat(data); err == nil {
		r.addVolumeRefLocked(name, ref)
		return data, nil
	}
	vo, err := parseVolumeOpts(opts)
	if err != nil {
		return "", fmt.Errorf("create %s: %w", name, err)
	}
	if err := os.MkdirAll(filepath.Dir(data), 0o701); err != nil {
		return "", err
	}
	optsFile := filepath.Join(r.volumeDir(name), volumeOptsFile)
	if vo != nil {
		b, err := json.Marshal(vo)
		if err != nil {
			return "", err
		}
		if err := writeFileAtomic(optsFile, b, 0o600); err != nil {
			return "", fmt.Errorf("create %s: error while persisting volume options: %w", name, err)
		}
	} else if err := os.Remove(optsFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err := r.saveVolumeMeta(name, volumeMeta{Labels: labels, Options: opts}); err != nil {
		return "", fmt.Errorf("create %s: %w", name, err)
	}
	tmp := data + ".new"
	_ = os.RemoveAll(tmp)
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return "", err
	}
	if copyFrom != "" && !vo.needsMount() {
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
	r.addVolumeRefLocked(name, ref)
	return data, nil
}

// volumeOptsFile holds a volume's driver options, as moby's opts.json.
const volumeOptsFile = "opts.json"

// loadVolumeOpts reads a volume's driver options; nil when it has none.
func (r *Runtime) loadVolumeOpts(name string) (*volumeOpts, error) {
	b, err := os.ReadFile(filepath.Join(r.volumeDir(name), volumeOptsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var o volumeOpts
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("error while unmarshaling volume options for volume: %s: %w", name, err)
	}
	if o == (volumeOpts{}) {
		return nil, nil
	}
	return &o, nil
}

// acquireVolume records that holder (a container ID) uses the volume and, for a volume with
// options, mounts its file system on _data unless it is mounted already. It returns the options
// (nil for a plain volume).
func (r *Runtime) acquireVolume(name, holder string) (*volumeOpts, error) {
	r.volMu.Lock()
	defer r.volMu.Unlock()
	vo, err := r.loadVolumeOpts(name)
	if err != nil || !vo.needsMount() {
		return vo, err
	}
	data := r.volumeDataDir(name)
	if mounted, err := isMountPoint(data); err != nil {
		return nil, err
	} else if !mounted {
		if err := mountVolumeFS(vo, data); err != nil {
			return nil, errdefs.System(fmt.Errorf("error while mounting volume '%s': %w", data, err))
		}
	}
	if r.volHolders[name] == nil {
		r.volHolders[name] = map[string]bool{}
	}
	r.volHolders[name][holder] = true
	return vo, nil
}

// holdVolume records holder as a user of a volume that is mounted already (an adopted container).
func (r *Runtime) holdVolume(name, holder string) {
	r.volMu.Lock()
	defer r.volMu.Unlock()
	if vo, err := r.loadVolumeOpts(name); err != nil || !vo.needsMount() {
		return
	}
	if r.volHolders[name] == nil {
		r.volHolders[name] = map[string]bool{}
	}
	r.volHolders[name][holder] = true
}

// releaseVolume forgets holder as a user of the volume and unmounts the volume's file system when
// nobody uses it any more. Releasing twice, or a volume without options, does nothing.
func (r *Runtime) releaseVolume(name, holder string) error {
	r.volMu.Lock()
	defer r.volMu.Unlock()
	hs := r.volHolders[name]
	if !hs[holder] {
		return nil
	}
	delete(hs, holder)
	if len(hs) > 0 {
		return nil
	}
	delete(r.volHolders, name)
	return r.unmountVolumeLocked(name)
}

// unmountVolumeLocked unmounts a volume's _data if something is mounted there; volMu is held.
func (r *Runtime) unmountVolumeLocked(name string) error {
	data := r.volumeDataDir(name)
	for range 8 { // a path mounted several times (a crash between mounts) takes several unmounts
		mounted, err := isMountPoint(data)
		if err != nil || !mounted {
			return err
		}
		if err := detachMount(data); err != nil {
			return errdefs.System(err)
		}
	}
	return errdefs.System(fmt.Errorf("volume %s: %s is still mounted", name, data))
}

// isMountPoint reports whether something is mounted at path; a missing path is not a mount point.
func isMountPoint(path string) (bool, error) {
	mounted, err := mountinfo.Mounted(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return mounted, err
}

// mountVolumeFS mounts the file system of a volume's options on data, as moby's local driver.
func mountVolumeFS(vo *volumeOpts, data string) error {
	device, options, err := mountSource(vo, net.ResolveIPAddr)
	if err != nil {
		return err
	}
	if err := mountWithOptions(device, data, vo.MountType, options); err != nil {
		msg := err.Error()
		if pw := optionValue(vo.MountOpts, "password"); pw != "" {
			msg = strings.Replace(msg, "password="+pw, "password=********", 1)
		}
		return fmt.Errorf("failed to mount local volume: %s", msg)
	}
	return nil
}

// unmountIdleVolumes unmounts the volumes that no container uses, left mounted by a shoald that
// stopped while they were in use (New calls it after the adoption of running containers).
func (r *Runtime) unmountIdleVolumes() {
	root := filepath.Join(r.opts.DataRoot, "volumes")
	mounts, err := mountinfo.GetMounts(mountinfo.PrefixFilter(root))
	if err != nil {
		r.log.Warn("list volume mounts", "err", err)
		return
	}
	r.volMu.Lock()
	defer r.volMu.Unlock()
	for _, m := range mounts {
		name, rest, _ := strings.Cut(strings.TrimPrefix(m.Mountpoint, root+"/"), "/")
		if rest != "_data" || len(r.volHolders[name]) > 0 {
			continue
		}
		if err := r.unmountVolumeLocked(name); err != nil {
			r.log.Warn("unmount unused volume", "volume", name, "err", err)
		}
	}
}

// removeVolume deletes a volume that no container uses (volumeUsersLocked): its file system is
// unmounted first, so that only the mount point is removed, never the content of a bind or
// network mount. A volume in use is errdefs.Conflict, with dockerd's text.
func (r *Runtime) removeVolume(name string) error {
	r.volMu.Lock()
	defer r.volMu.Unlock()
	if users := r.volumeUsersLocked(name); len(users) > 0 {
		return errVolumeInUse(name, users)
	}
	if err := r.unmountVolumeLocked(name); err != nil {
		return err
	}
	return os.RemoveAll(r.volumeDir(name))
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
