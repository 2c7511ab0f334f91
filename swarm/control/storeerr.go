package control

import (
	"errors"

	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/swarm/raft"
	"github.com/shoal-project/shoal/swarm/store"
)

// storeError gives a failed store write Docker's words and class. Errors that already carry a class
// pass through. (Shared by every file of this package: use it for all store writes.)
func storeError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrSequenceConflict):
		return errdefs.System(errors.New("rpc error: code = Unknown desc = update out of sequence"))
	case errors.Is(err, raft.ErrNoLeader):
		return errdefs.System(errors.New("rpc error: code = Unknown desc = " + raft.ErrNoLeader.Error()))
	case errors.Is(err, store.ErrNotExist):
		return errdefs.NotFound(err)
	case errors.Is(err, store.ErrNameConflict), errors.Is(err, store.ErrExist):
		return errdefs.Conflict(errors.New("rpc error: code = AlreadyExists desc = " + err.Error()))
	}
	return err
}
