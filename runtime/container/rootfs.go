package container

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// mountOverlay mounts an overlay of lower (lowest first) with upper and work at target.
func mountOverlay(lower []string, upper, work, target string) error {
	for _, d := range lower {
		if strings.ContainsAny(d, ":,") {
			return fmt.Errorf("overlay lower directory %q contains ':' or ','", d)
		}
		if st, err := os.Stat(d); err != nil {
			return fmt.Errorf("image layer: %w", err)
		} else if !st.IsDir() {
			return fmt.Errorf("image layer %s is not a directory", d)
		}
	}
	if mounted, _ := mountinfo.Mounted(target); mounted {
		return nil
	}
	// overlayfs wants the top-most layer first.
	top := make([]string, len(lower))
	for i, d := range lower {
		top[len(lower)-1-i] = d
	}
	data := "lowerdir=" + strings.Join(top, ":") + ",upperdir=" + upper + ",workdir=" + work
	if len(data) < unix.Getpagesize()-1 {
		if err := unix.Mount("overlay", target, "overlay", 0, data); err != nil {
			return fmt.Errorf("mount overlay on %s: %w", target, err)
		}
		return nil
	}
	// Too long for mount(2)'s one-page option string: add the layers one by one (Linux 6.8+).
	return mountOverlayFsconfig(top, upper, work, target)
}

func mountOverlayFsconfig(top []string, upper, work, target string) error {
	fsfd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("fsopen overlay: %w", err)
	}
	defer unix.Close(fsfd)
	for _, d := range top {
		if err := unix.FsconfigSetString(fsfd, "lowerdir+", d); err != nil {
			return fmt.Errorf("overlay lowerdir+ %s (too many layers for this kernel?): %w", d, err)
		}
	}
	if err := unix.FsconfigSetString(fsfd, "upperdir", upper); err != nil {
		return fmt.Errorf("overlay upperdir: %w", err)
	}
	if err := unix.FsconfigSetString(fsfd, "workdir", work); err != nil {
		return fmt.Errorf("overlay workdir: %w", err)
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return fmt.Errorf("create overlay: %w", err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("fsmount overlay: %w", err)
	}
	defer unix.Close(mfd)
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("move overlay mount to %s: %w", target, err)
	}
	return nil
}

// unmountAll unmounts everything mounted at or below target, deepest first.
func unmountAll(target string) error {
	mounts, err := mountinfo.GetMounts(mountinfo.PrefixFilter(target))
	if err != nil {
		return err
	}
	// Deepest (longest) mount points first; a path mounted twice is unmounted twice.
	for len(mounts) > 0 {
		deepest := 0
		for i, m := range mounts {
			if len(m.Mountpoint) > len(mounts[deepest].Mountpoint) {
				deepest = i
			}
		}
		mp := mounts[deepest].Mountpoint
		if err := unix.Unmount(mp, 0); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
				return fmt.Errorf("unmount %s: %w", mp, err)
			}
		}
		mounts = append(mounts[:deepest], mounts[deepest+1:]...)
	}
	return nil
}
