package store

import "errors"

// Errors a write can fail with. They are plain sentinels; the control layer gives them Docker's words
// and status classes.
var (
	// ErrNotExist: the object to update or delete is not in the store.
	ErrNotExist = errors.New("object does not exist")
	// ErrExist: an object with that ID is already in the store.
	ErrExist = errors.New("object already exists")
	// ErrNameConflict: another object of the same kind has that name.
	ErrNameConflict = errors.New("name conflicts with an existing object")
	// ErrSequenceConflict: the object changed since the version the writer read.
	ErrSequenceConflict = errors.New("update out of sequence")
)
