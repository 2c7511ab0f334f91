package routes

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/versions"
	"github.com/docker/docker/errdefs"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/go-chi/chi/v5"
)

// createExec answers 201 {"Id": ...}.
func (s *server) createExec(w http.ResponseWriter, r *http.Request) error {
	var cfg container.ExecOptions
	if err := readJSON(r, &cfg); err != nil {
		return err
	}
	if len(cfg.Cmd) == 0 {
		return invalidParam("No exec command specified")
	}
	if versions.LessThan(s.apiVersion(r), "1.42") {
		cfg.ConsoleSize = nil // new in 1.42
	}
	id, err := s.Containers.ExecCreate(r.Context(), chi.URLParam(r, "name"), cfg)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, container.ExecCreateResponse{ID: id})
}

// startExec runs an exec. Detached: 200 once started. Attached: the connection is hijacked (see hijack)
// and carries stdin from the client and stdout/stderr to it, multiplexed with stdcopy unless Tty.
// The exec runs to its end even if the client leaves: it is not bound to the request's context.
func (s *server) startExec(w http.ResponseWriter, r *http.Request) error {
	var opts container.ExecStartOptions
	if err := readJSON(r, &opts); err != nil {
		return err
	}
	id := chi.URLParam(r, "id")
	ctx := context.WithoutCancel(r.Context())
	if _, err := s.Containers.ExecInspect(ctx, id); err != nil {
		return err
	}
	if opts.Detach {
		return s.Containers.ExecStart(ctx, id, nil, nil, nil)
	}

	hs, err := hijack(w, r, s.streamContentType(r, opts.Tty))
	if err != nil {
		return errdefs.System(fmt.Errorf("exec %s: cannot take over the connection: %w", id, err))
	}
	defer hs.Close()
	var stdout, stderr io.Writer = hs.Conn, hs.Conn
	if !opts.Tty {
		stdout = stdcopy.NewStdWriter(hs.Conn, stdcopy.Stdout)
		stderr = stdcopy.NewStdWriter(hs.Conn, stdcopy.Stderr)
	}
	if err := s.Containers.ExecStart(ctx, id, hs.Stdin, stdout, stderr); err != nil {
		// The status is long sent: the error goes to the output, as dockerd.
		_, _ = fmt.Fprintf(stdout, "%v\r\n", err)
		s.log.Error("exec failed", "exec", id, "error", err)
	}
	return nil
}

// resizeExec answers 200 with an empty body.
func (s *server) resizeExec(w http.ResponseWriter, r *http.Request) error {
	h, err := uint32Value(r, "h")
	if err != nil {
		return invalidParam("invalid resize height %q: %v", r.Form.Get("h"), err)
	}
	wd, err := uint32Value(r, "w")
	if err != nil {
		return invalidParam("invalid resize width %q: %v", r.Form.Get("w"), err)
	}
	return s.Containers.ExecResize(r.Context(), chi.URLParam(r, "id"), uint(h), uint(wd))
}

func (s *server) inspectExec(w http.ResponseWriter, r *http.Request) error {
	e, err := s.Containers.ExecInspect(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, e)
}
