package container

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// The container's stdout and stderr are FIFOs (see the package doc). shoald opens the read end
// non-blocking (polled by the Go runtime); the container gets a blocking read-write end, so the
// pipe never loses its last reader while the container lives.

const pipeBufferSize = 1 << 20

// makeFIFO creates the FIFO at path unless it exists.
func makeFIFO(path string) error {
	err := unix.Mkfifo(path, 0o600)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return &os.PathError{Op: "mkfifo", Path: path, Err: err}
	}
	return nil
}

// openFIFOReader opens the read end; it never blocks, and reads return EOF once no writer is
// left.
func openFIFOReader(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK, 0)
}

// openFIFOContainerEnd opens the end given to the container: read-write and blocking.
func openFIFOContainerEnd(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	// A bigger buffer holds more output while shoald is away; best effort.
	_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, pipeBufferSize)
	return os.NewFile(uintptr(fd), path), nil
}

// stdioFIFOs are the two FIFOs of a run, opened for its start.
type stdioFIFOs struct {
	stdoutR, stderrR *os.File // ours
	stdoutW, stderrW *os.File // the container's; closed by us after the start
}

func openStdioFIFOs(dir string) (_ *stdioFIFOs, err error) {
	s := &stdioFIFOs{}
	defer func() {
		if err != nil {
			s.closeAll()
		}
	}()
	for _, p := range []struct {
		name string
		r, w **os.File
	}{{"stdout", &s.stdoutR, &s.stdoutW}, {"stderr", &s.stderrR, &s.stderrW}} {
		path := dir + "/" + p.name + ".fifo"
		if err := makeFIFO(path); err != nil {
			return nil, err
		}
		if *p.r, err = openFIFOReader(path); err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		if *p.w, err = openFIFOContainerEnd(path); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *stdioFIFOs) closeWriters() {
	for _, f := range []*os.File{s.stdoutW, s.stderrW} {
		if f != nil {
			_ = f.Close()
		}
	}
	s.stdoutW, s.stderrW = nil, nil
}

func (s *stdioFIFOs) closeAll() {
	s.closeWriters()
	for _, f := range []*os.File{s.stdoutR, s.stderrR} {
		if f != nil {
			_ = f.Close()
		}
	}
}
