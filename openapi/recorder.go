package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"strings"
	"sync"
	"time"
)

// DefaultMaxBody is how much of one response body a Recorder keeps for
// checking. A longer body (an image export, say) is passed on unchecked.
const DefaultMaxBody = 16 << 20

// Violation is one request whose route or response broke the contract.
type Violation struct {
	Method string
	URI    string // as the client sent it: version prefix and query included
	Status int    // 0 when the route itself was the problem
	Err    error
}

func (v Violation) String() string {
	return fmt.Sprintf("%s %s: %v", v.Method, v.URI, v.Err)
}

// Recorder is an http.RoundTripper that forwards requests to next and checks
// every route and response against the contract, recording violations. It
// never changes what passes through: bodies are teed while the client reads
// them and checked when the body ends or is closed (for an endless stream
// such as /events, the complete values read up to then are checked).
// A Recorder is safe for concurrent use.
type Recorder struct {
	contract *Contract
	next     http.RoundTripper

	// MaxBody caps the bytes of one body kept for checking; 0 means
	// DefaultMaxBody. Set it before first use.
	MaxBody int

	mu         sync.Mutex
	violations []Violation
	checked    int
}

// NewRecorder returns a Recorder that sends requests through next.
func NewRecorder(c *Contract, next http.RoundTripper) *Recorder {
	return &Recorder{contract: c, next: next}
}

// UnixTransport returns a transport that sends every request to the Engine
// API socket at path, whatever the request's host.
func UnixTransport(path string) *http.Transport {
	return &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
		DisableCompression: true,
		MaxIdleConns:       16,
		IdleConnTimeout:    30 * time.Second,
	}
}

// RoundTrip implements http.RoundTripper.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	uri := req.URL.RequestURI()
	if err := r.contract.CheckRoute(req.Method, uri); err != nil {
		r.record(Violation{Method: req.Method, URI: uri, Err: err})
	}
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	if resp.StatusCode == http.StatusSwitchingProtocols || req.Method == http.MethodHead || resp.Body == nil || resp.Body == http.NoBody {
		// A hijacked connection is a raw stream: only its status is checked.
		r.check(req.Method, uri, resp.StatusCode, resp.Header, nil)
		return resp, nil
	}
	max := r.MaxBody
	if max <= 0 {
		max = DefaultMaxBody
	}
	resp.Body = &teeBody{
		ReadCloser: resp.Body,
		max:        max,
		done: func(body []byte, complete bool) {
			if !complete {
				body = completeValues(body)
				if len(body) == 0 {
					return // closed before anything checkable arrived
				}
			}
			r.check(req.Method, uri, resp.StatusCode, resp.Header, body)
		},
	}
	return resp, nil
}

func (r *Recorder) check(method, uri string, status int, header http.Header, body []byte) {
	err := r.contract.CheckResponse(method, uri, status, header, body)
	var re *RouteError
	if errors.As(err, &re) {
		err = nil // already recorded by RoundTrip
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checked++
	if err != nil {
		r.violations = append(r.violations, Violation{Method: method, URI: uri, Status: status, Err: err})
	}
}

func (r *Recorder) record(v Violation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.violations = append(r.violations, v)
}

// Violations returns a copy of the violations recorded so far.
func (r *Recorder) Violations() []Violation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Violation(nil), r.violations...)
}

// Checked returns how many responses have been checked so far.
func (r *Recorder) Checked() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.checked
}

// Err returns nil when no violation was recorded, else one error listing all.
func (r *Recorder) Err() error {
	vs := r.Violations()
	if len(vs) == 0 {
		return nil
	}
	lines := make([]string, len(vs))
	for i, v := range vs {
		lines[i] = v.String()
	}
	return fmt.Errorf("%d Engine API contract violation(s):\n%s", len(vs), strings.Join(lines, "\n"))
}

// teeBody keeps up to max bytes of what the client reads and calls done once:
// at EOF with complete=true, or at Close before EOF with complete=false. A
// body longer than max is not checked.
type teeBody struct {
	io.ReadCloser
	max  int
	buf  bytes.Buffer
	over bool
	once sync.Once
	done func(body []byte, complete bool)
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 && !b.over {
		if b.buf.Len()+n > b.max {
			b.over = true
			b.buf = bytes.Buffer{}
		} else {
			b.buf.Write(p[:n])
		}
	}
	if err == io.EOF {
		b.finish(true)
	}
	return n, err
}

func (b *teeBody) Close() error {
	b.finish(false)
	return b.ReadCloser.Close()
}

func (b *teeBody) finish(complete bool) {
	b.once.Do(func() {
		if !b.over {
			b.done(b.buf.Bytes(), complete)
		}
	})
}

// completeValues returns the prefix of body made of whole JSON values, or
// nil when body is not JSON or holds no whole value.
func completeValues(body []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	end := int64(0)
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			break
		}
		end = dec.InputOffset()
	}
	return body[:end]
}

// Proxy is a unix-socket Engine API endpoint that forwards to a daemon's
// socket through a Recorder. Point DOCKER_HOST at unix://<Socket>.
type Proxy struct {
	Socket string
	srv    *http.Server
	ln     net.Listener
	done   chan struct{}
}

// ServeUnix listens on socket (removing a stale file first) and proxies every
// request, hijacked and streaming ones included, to the daemon socket the
// Recorder's transport reaches.
func (r *Recorder) ServeUnix(socket string) (*Proxy, error) {
	_ = os.Remove(socket)
	ln, err := net.Listen("unix", socket)
	if err != nil {
		return nil, fmt.Errorf("openapi: listen %s: %w", socket, err)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = "docker"
			pr.Out.Host = pr.In.Host
		},
		Transport:     r,
		FlushInterval: -1,
		ErrorLog:      nil,
	}
	p := &Proxy{Socket: socket, ln: ln, done: make(chan struct{}),
		srv: &http.Server{Handler: rp, ReadHeaderTimeout: 30 * time.Second}}
	go func() {
		defer close(p.done)
		_ = p.srv.Serve(ln)
	}()
	return p, nil
}

// Close stops the proxy and removes its socket.
func (p *Proxy) Close() error {
	err := p.srv.Close()
	<-p.done
	_ = os.Remove(p.Socket)
	return err
}
