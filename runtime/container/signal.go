package container

import (
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// ParseSignal parses a signal the way Docker does: "SIGTERM", "TERM", "term" or "15".
func ParseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, invalidf("Invalid signal: %s", s)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	// Real-time signals: SIGRTMIN+n, SIGRTMAX-n.
	const rtmin, rtmax = 34, 64
	if rest, ok := strings.CutPrefix(name, "SIGRTMIN"); ok {
		if n, ok := rtOffset(rest, "+"); ok && rtmin+n <= rtmax {
			return syscall.Signal(rtmin + n), nil
		}
	}
	if rest, ok := strings.CutPrefix(name, "SIGRTMAX"); ok {
		if n, ok := rtOffset(rest, "-"); ok && rtmax-n >= rtmin {
			return syscall.Signal(rtmax - n), nil
		}
	}
	return 0, invalidf("Invalid signal: %s", s)
}

func rtOffset(s, sign string) (int, bool) {
	if s == "" {
		return 0, true
	}
	rest, ok := strings.CutPrefix(s, sign)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n >= 0
}

// exitCodeOf turns a wait status into Docker's exit code: the status, or 128+signal.
func exitCodeOf(ws syscall.WaitStatus) int {
	switch {
	case ws.Exited():
		return ws.ExitStatus()
	case ws.Signaled():
		return 128 + int(ws.Signal())
	}
	return 255
}
