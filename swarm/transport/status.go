package transport

import (
	"context"
	"errors"
	"net/rpc"
	"regexp"

	"github.com/shoal-project/shoal/swarm/dispatcher"
	"github.com/shoal-project/shoal/swarm/raft"
)

// Error codes, named as gRPC's are (Docker shows swarm errors in that form).
const (
	CodeUnknown            = "Unknown"
	CodeInvalidArgument    = "InvalidArgument"
	CodeNotFound           = "NotFound"
	CodePermissionDenied   = "PermissionDenied"
	CodeFailedPrecondition = "FailedPrecondition"
	CodeUnavailable        = "Unavailable"
	CodeDeadlineExceeded   = "DeadlineExceeded"
)

// StatusError is an error a manager answered a call with.
type StatusError struct {
	Code string
	Desc string
}

func (e *StatusError) Error() string { return "rpc error: code = " + e.Code + " desc = " + e.Desc }

// Is makes errors.Is match on code and text.
func (e *StatusError) Is(target error) bool {
	t, ok := target.(*StatusError)
	return ok && t.Code == e.Code && t.Desc == e.Desc
}

// ErrInvalidJoinToken is the manager's answer to a join token that is none of the cluster's.
var ErrInvalidJoinToken = &StatusError{Code: CodeInvalidArgument, Desc: "A valid join token is necessary to join this cluster"}

// errNotLeader ends a session held with a manager that no longer leads.
var errNotLeader = &StatusError{Code: CodeUnavailable, Desc: raft.ErrNotLeader.Error()}

// errNoLeader: no manager leads now.
var errNoLeader = &StatusError{Code: CodeUnavailable, Desc: raft.ErrNoLeader.Error()}

// errNotServed: this node does not serve what was asked (not a manager, or not set up yet).
func errNotServed(what string) error {
	return &StatusError{Code: CodeUnavailable, Desc: "this node does not serve " + what}
}

// toStatus classifies an error a service returns, for the wire.
func toStatus(err error) error {
	var se *StatusError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return se
	case errors.Is(err, raft.ErrNotLeader):
		return errNotLeader
	case errors.Is(err, raft.ErrNoLeader):
		return errNoLeader
	case errors.Is(err, dispatcher.ErrNodeUnknown):
		return &StatusError{Code: CodeNotFound, Desc: err.Error()}
	case errors.Is(err, dispatcher.ErrLogSubscriptionGone):
		return &StatusError{Code: CodeNotFound, Desc: err.Error()}
	case errors.Is(err, context.DeadlineExceeded):
		return &StatusError{Code: CodeDeadlineExceeded, Desc: err.Error()}
	}
	return &StatusError{Code: CodeUnknown, Desc: err.Error()}
}

var statusText = regexp.MustCompile(`(?s)^rpc error: code = (\w+) desc = (.*)$`)

// fromWire turns a net/rpc error back into a *StatusError when the server sent one.
func fromWire(err error) error {
	var se rpc.ServerError
	if !errors.As(err, &se) {
		return err
	}
	if m := statusText.FindStringSubmatch(string(se)); m != nil {
		return &StatusError{Code: m[1], Desc: m[2]}
	}
	return &StatusError{Code: CodeUnknown, Desc: string(se)}
}

// endsSession tells whether a call's error means the session is gone: the connection broke, the
// manager stopped leading, or it no longer knows the session or the node.
func endsSession(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code == CodeUnavailable || se.Code == CodeNotFound
	}
	return err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}
