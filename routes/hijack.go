package routes

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/docker/docker/api/types"
)

// hijackDrainTimeout bounds how long a finished stream waits for the client to close its side.
const hijackDrainTimeout = 5 * time.Second

// hijackedStream is a connection taken over from the HTTP server for a raw stream (exec, attach).
// The client's input is pumped into Stdin; output is written to Conn.
type hijackedStream struct {
	Conn  net.Conn
	Stdin io.Reader // EOF once the client half-closes (CloseWrite) or closes

	pr     *io.PipeReader
	pumped chan struct{}
}

// hijack takes over the connection and answers as dockerd: "101 UPGRADED" with Connection/Upgrade
// headers when the client asked for an upgrade, else a bare "200 OK"; then the headers set so far
// (Server, Api-Version...).
func hijack(w http.ResponseWriter, r *http.Request, contentType string) (*hijackedStream, error) {
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{}) // the server's timeouts do not apply to a stream

	var head bytes.Buffer
	if _, upgrade := r.Header["Upgrade"]; upgrade {
		fmt.Fprintf(&head, "HTTP/1.1 101 UPGRADED\r\nContent-Type: %s\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n", contentType)
	} else {
		fmt.Fprintf(&head, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n", types.MediaTypeRawStream)
	}
	h := w.Header().Clone()
	h.Del("Content-Type")
	h.Del("Content-Length")
	_ = h.Write(&head)
	head.WriteString("\r\n")
	if _, err := conn.Write(head.Bytes()); err != nil {
		conn.Close()
		return nil, err
	}

	// Bytes the server already read past the request belong to the stream.
	var in io.Reader = conn
	if n := brw.Reader.Buffered(); n > 0 {
		early, _ := brw.Reader.Peek(n)
		in = io.MultiReader(bytes.NewReader(bytes.Clone(early)), conn)
	}
	pr, pw := io.Pipe()
	hs := &hijackedStream{Conn: conn, Stdin: pr, pr: pr, pumped: make(chan struct{})}
	go func() {
		defer close(hs.pumped)
		_, err := io.Copy(pw, in)
		pw.CloseWithError(err) // nil error: the reader sees EOF
	}()
	return hs, nil
}

// Close ends the stream gracefully: stop feeding Stdin, send EOF on the output (half-close), give the
// client a moment to read it and close its side, then close the connection.
func (hs *hijackedStream) Close() {
	hs.pr.Close()
	_ = hs.Conn.SetReadDeadline(time.Now()) // stop the pump if it is blocked reading
	<-hs.pumped
	if cw, ok := hs.Conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		_ = hs.Conn.SetReadDeadline(time.Now().Add(hijackDrainTimeout))
		_, _ = io.Copy(io.Discard, hs.Conn)
	}
	hs.Conn.Close()
}
