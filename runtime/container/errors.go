package container

import (
	"errors"
	"fmt"

	"github.com/docker/docker/errdefs"
)

// Sentinel errors, matched with errors.Is. Every error the Runtime returns for one of these
// cases is also classified with github.com/docker/docker/errdefs and carries Docker's text.
var (
	// ErrNotFound: no container with that ID, ID prefix or name (errdefs.NotFound).
	ErrNotFound = errors.New("no such container")
	// ErrNotRunning: the operation needs a running container (errdefs.Conflict).
	ErrNotRunning = errors.New("container is not running")
	// ErrAlreadyRunning: Start of a running container (errdefs.NotModified).
	ErrAlreadyRunning = errors.New("container already running")
	// ErrExists: Create with an ID or name already in use (errdefs.Conflict).
	ErrExists = errors.New("container already exists")
	// ErrAmbiguous: an ID prefix matches more than one container (errdefs.InvalidParameter).
	ErrAmbiguous = errors.New("ambiguous container reference")
)

// kindError is an error with Docker's message that also matches one of the sentinels.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string        { return e.msg }
func (e *kindError) Is(target error) bool { return target == e.kind }

func errNotFound(ref string) error {
	return errdefs.NotFound(&kindError{fmt.Sprintf("No such container: %s", ref), ErrNotFound})
}

func errNotRunning(id string) error {
	return errdefs.Conflict(&kindError{fmt.Sprintf("container %s is not running", id), ErrNotRunning})
}

func errAlreadyRunning(id string) error {
	return errdefs.NotModified(&kindError{fmt.Sprintf("container %s is already running", id), ErrAlreadyRunning})
}

func errExists(what string) error {
	return errdefs.Conflict(&kindError{what, ErrExists})
}

func errAmbiguous(ref string) error {
	return errdefs.InvalidParameter(&kindError{fmt.Sprintf("multiple IDs found with provided prefix: %s", ref), ErrAmbiguous})
}

func invalidf(format string, args ...any) error {
	return errdefs.InvalidParameter(fmt.Errorf(format, args...))
}
