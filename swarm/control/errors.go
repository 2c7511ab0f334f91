package control

import (
	"fmt"

	"github.com/docker/docker/errdefs"
)

// grpcCode names a gRPC status code. Docker passes swarmkit's gRPC errors to the client as their
// Error() text, "rpc error: code = <Code> desc = <message>", and clients match on those words, so
// errors that swarmkit's control API raises keep that form here.
type grpcCode string

const (
	codeInvalidArgument    grpcCode = "InvalidArgument"
	codeNotFound           grpcCode = "NotFound"
	codeAlreadyExists      grpcCode = "AlreadyExists"
	codeFailedPrecondition grpcCode = "FailedPrecondition"
	codeUnimplemented      grpcCode = "Unimplemented"
	codePermissionDenied   grpcCode = "PermissionDenied"
	codeUnknown            grpcCode = "Unknown"
	codeInternal           grpcCode = "Internal"
)

// rpcError makes swarmkit's error: the gRPC text, classed as Docker classes that gRPC code
// (InvalidArgument and FailedPrecondition 400, NotFound 404, AlreadyExists 409, Unimplemented 501,
// PermissionDenied 403, anything else 500).
func rpcError(code grpcCode, format string, args ...any) error {
	err := plainError(fmt.Sprintf("rpc error: code = %s desc = %s", code, fmt.Sprintf(format, args...)))
	switch code {
	case codeInvalidArgument, codeFailedPrecondition:
		return errdefs.InvalidParameter(err)
	case codeNotFound:
		return errdefs.NotFound(err)
	case codeAlreadyExists:
		return errdefs.Conflict(err)
	case codeUnimplemented:
		return errdefs.NotImplemented(err)
	case codePermissionDenied:
		return errdefs.Forbidden(err)
	}
	return errdefs.System(err)
}

// notFound is the daemon's own lookup failure: "<kind> <ref> not found" (404).
func notFound(kind, ref string) error {
	return errdefs.NotFound(fmt.Errorf("%s %s not found", kind, ref))
}

// ambiguous is the daemon's answer to a name or ID prefix that matches several objects (400).
func ambiguous(kind, ref string, n int) error {
	return errdefs.InvalidParameter(fmt.Errorf("%s %s is ambiguous (%d matches found)", kind, ref, n))
}

// invalidParam is an error the daemon raises itself while converting a request (400, no gRPC prefix).
func invalidParam(format string, args ...any) error {
	return errdefs.InvalidParameter(fmt.Errorf(format, args...))
}

// systemError is an error the daemon raises itself without a class: Docker answers it with 500.
func systemError(format string, args ...any) error {
	return errdefs.System(fmt.Errorf(format, args...))
}
