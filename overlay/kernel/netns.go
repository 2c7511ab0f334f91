package kernel

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Do runs fn on a locked OS thread inside the netns at nsPath, then returns the thread to the
// netns it was in. Sockets fn opens stay in that netns; goroutines fn starts do not run in it.
// When the thread cannot be returned, it is discarded rather than reused.
func Do(nsPath string, fn func() error) error {
	target, err := netns.GetFromPath(nsPath)
	if err != nil {
		return fmt.Errorf("open netns %s: %w", nsPath, err)
	}
	defer target.Close()
	var fnErr error
	err = onLockedThread(func() error {
		orig, err := netns.Get()
		if err != nil {
			return fmt.Errorf("open the thread's netns: %w", err)
		}
		defer orig.Close()
		if err := netns.Set(target); err != nil {
			return fmt.Errorf("enter netns %s: %w", nsPath, err)
		}
		fnErr = fn()
		if err := netns.Set(orig); err != nil {
			return errThreadLost{fmt.Errorf("return from netns %s: %w", nsPath, err)}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return fnErr
}

// errThreadLost marks a thread whose namespaces could not be restored.
type errThreadLost struct{ error }

// onLockedThread runs fn on a new goroutine locked to its OS thread and waits for it. When fn
// returns errThreadLost the thread stays locked, so the runtime ends it with the goroutine.
func onLockedThread(fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		err := fn()
		var lost errThreadLost
		if !errors.As(err, &lost) {
			runtime.UnlockOSThread()
		}
		done <- err
	}()
	return <-done
}

// NewNetNS makes an empty netns with lo up, bind-mounted at <dir>/<name>, and returns its path.
// An existing netns at that path is kept.
func (k *Kernel) NewNetNS(name string) (string, error) {
	if err := k.lock(); err != nil {
		return "", err
	}
	defer k.mu.Unlock()
	return k.newNetNS(name)
}

func (k *Kernel) newNetNS(name string) (string, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') {
		return "", fmt.Errorf("kernel: invalid netns name %q", name)
	}
	if err := k.ensureDirMount(); err != nil {
		return "", err
	}
	path := filepath.Join(k.dir, name)
	if err := createNetNS(path); err != nil {
		return "", fmt.Errorf("kernel: make netns %s: %w", name, err)
	}
	return path, nil
}

// RemoveNetNS unmounts and deletes <dir>/<name>; a missing one is not an error. The netns itself
// goes when nothing else holds it (processes, open files).
func (k *Kernel) RemoveNetNS(name string) error {
	if err := k.lock(); err != nil {
		return err
	}
	defer k.mu.Unlock()
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') {
		return fmt.Errorf("kernel: invalid netns name %q", name)
	}
	if err := removeNetNS(filepath.Join(k.dir, name)); err != nil {
		return fmt.Errorf("kernel: %w", err)
	}
	return nil
}

// ensureDirMount makes dir a shared mount point, as `ip netns add` does for /run/netns, so that
// netns mounts under it (and their removal) propagate to mount namespaces copied from ours.
func (k *Kernel) ensureDirMount() error {
	if k.dirMounted {
		return nil
	}
	if err := os.MkdirAll(k.dir, 0o700); err != nil {
		return fmt.Errorf("kernel: make netns directory: %w", err)
	}
	err := unix.Mount("", k.dir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if err == nil {
		// Already a mount point (ours from an earlier run, or the caller's): keep it.
		return nil
	}
	if !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("kernel: make %s shared: %w", k.dir, err)
	}
	if err := unix.Mount(k.dir, k.dir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("kernel: bind-mount %s onto itself: %w", k.dir, err)
	}
	k.dirMounted = true
	if err := unix.Mount("", k.dir, "none", unix.MS_SHARED|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("kernel: make %s shared: %w", k.dir, err)
	}
	return nil
}

func unmountDir(dir string) error {
	if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount %s: %w", dir, err)
	}
	return nil
}

// createNetNS bind-mounts a new netns at path (unless one is there already) and sets its lo up.
func createNetNS(path string) error {
	if !isNetNS(path) {
		f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o444)
		if err != nil {
			return fmt.Errorf("create %s: %w", path, err)
		}
		f.Close()
		err = onLockedThread(func() error {
			orig, err := netns.Get()
			if err != nil {
				return fmt.Errorf("open the thread's netns: %w", err)
			}
			defer orig.Close()
			if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
				return fmt.Errorf("unshare: %w", err)
			}
			src := fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid())
			mountErr := unix.Mount(src, path, "none", unix.MS_BIND, "")
			if err := netns.Set(orig); err != nil {
				return errThreadLost{fmt.Errorf("return to the original netns: %w", err)}
			}
			if mountErr != nil {
				return fmt.Errorf("bind-mount %s: %w", src, mountErr)
			}
			return nil
		})
		if err != nil {
			os.Remove(path)
			return err
		}
	}
	return withNS(path, func(h *netlink.Handle, _ netns.NsHandle) error {
		lo, err := h.LinkByName("lo")
		if err != nil {
			return fmt.Errorf("find lo: %w", err)
		}
		if err := h.LinkSetUp(lo); err != nil {
			return fmt.Errorf("set lo up: %w", err)
		}
		return nil
	})
}

// removeNetNS unmounts path (if mounted) and deletes it (if present).
func removeNetNS(path string) error {
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount netns %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove netns file %s: %w", path, err)
	}
	return nil
}

// isNetNS reports whether path is a netns (an nsfs file, normally a bind mount).
func isNetNS(path string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false
	}
	return st.Type == unix.NSFS_MAGIC
}

// withNS calls fn with a netlink handle in the netns at path and that netns's handle (an fd,
// valid during fn).
func withNS(path string, fn func(h *netlink.Handle, ns netns.NsHandle) error) error {
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return fmt.Errorf("open netns %s: %w", path, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return fmt.Errorf("netlink socket in netns %s: %w", path, err)
	}
	defer h.Close()
	return fn(h, ns)
}

// deleteLinksIn deletes every interface but lo in the netns at path: its veth pairs then vanish
// from the other end's netns at once, and its VXLAN device's socket closes.
func deleteLinksIn(path string) error {
	return withNS(path, func(h *netlink.Handle, _ netns.NsHandle) error {
		links, err := h.LinkList()
		if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
			return fmt.Errorf("list links in %s: %w", path, err)
		}
		var errs []error
		for _, l := range links {
			if l.Attrs().Flags&net.FlagLoopback != 0 || l.Attrs().Name == "lo" {
				continue
			}
			if err := h.LinkDel(l); err != nil && !isNotFound(err) {
				errs = append(errs, fmt.Errorf("delete %s in %s: %w", l.Attrs().Name, path, err))
			}
		}
		return errors.Join(errs...)
	})
}
