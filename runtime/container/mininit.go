package container

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// runMinimalInit is the container init (Spec.Init), PID 1 in the container: it starts the
// command given after "--", forwards every catchable signal to it, reaps all zombies, and exits
// with the command's exit code (128+signal when a signal ended it), which it also writes to the
// descriptor named by _SHOAL_INIT_EXIT_FD for a shoald that is not its parent.
func runMinimalInit(args []string) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "docker-init: no command given")
		return 127
	}
	var exitFile *os.File
	if v := os.Getenv(initExitFDEnv); v != "" {
		if fd, err := strconv.Atoi(v); err == nil {
			unix.CloseOnExec(fd)
			exitFile = os.NewFile(uintptr(fd), "exit")
		}
		_ = os.Unsetenv(initExitFDEnv)
	}

	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs)
	// Until now a signal would have ended this process (the Go runtime's default): tell the
	// Runtime, which waits for this line before its Start returns.
	if exitFile != nil {
		_, _ = exitFile.WriteString(initReadyLine)
	}

	path, err := exec.LookPath(args[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "docker-init: exec %s: %v\n", args[0], err)
		return writeExit(exitFile, 127)
	}
	child, err := os.StartProcess(path, args, &os.ProcAttr{
		Env:   os.Environ(),
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "docker-init: start %s: %v\n", args[0], err)
		code := 126
		if errors.Is(err, os.ErrNotExist) {
			code = 127
		}
		return writeExit(exitFile, code)
	}
	childPid := child.Pid
	for sig := range sigs {
		s := sig.(syscall.Signal)
		switch s {
		case unix.SIGCHLD:
			if code, done := reapAll(childPid); done {
				return writeExit(exitFile, code)
			}
		case unix.SIGURG: // the Go runtime's own preemption signal
		case unix.SIGFPE, unix.SIGILL, unix.SIGSEGV, unix.SIGBUS, unix.SIGABRT, unix.SIGTRAP, unix.SIGSYS,
			unix.SIGTTIN, unix.SIGTTOU:
		default:
			_ = unix.Kill(childPid, s)
		}
	}
	return 255
}

// reapAll reaps every exited process; done is true once the command itself has exited.
func reapAll(childPid int) (code int, done bool) {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err != nil || pid <= 0 {
			return code, done
		}
		if pid == childPid {
			code, done = exitCodeOf(syscall.WaitStatus(ws)), true
		}
	}
}

func writeExit(f *os.File, code int) int {
	if f != nil {
		_, _ = f.WriteString(strconv.Itoa(code) + "\n")
		_ = f.Close()
	}
	return code
}
