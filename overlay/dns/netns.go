package dns

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// inNetNS runs fn on a locked OS thread that has entered the network namespace at nsPath, then
// returns the thread to its namespace. Sockets fn makes stay in nsPath's namespace and may be
// used from any goroutine. If the thread cannot go back, it is left locked so that it ends
// with its goroutine rather than serve others in the wrong namespace.
func inNetNS(nsPath string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		restored, err := onThreadInNetNS(nsPath, fn)
		if restored {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

func onThreadInNetNS(nsPath string, fn func() error) (restored bool, err error) {
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return true, fmt.Errorf("open own netns: %w", err)
	}
	defer unix.Close(orig)
	target, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return true, fmt.Errorf("open netns %s: %w", nsPath, err)
	}
	defer unix.Close(target)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		return true, fmt.Errorf("enter netns %s: %w", nsPath, err)
	}
	err = fn()
	if serr := unix.Setns(orig, unix.CLONE_NEWNET); serr != nil {
		return false, fmt.Errorf("return from netns %s: %w", nsPath, serr)
	}
	return true, err
}
