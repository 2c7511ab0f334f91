package transport

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httputil"
	"time"

	"github.com/shoal-project/shoal/swarm/raft"
)

// Forwarder sends Engine API requests from a follower manager to the leader over the channel
// (shoal-api, manager certificates only) and copies the answers back: streamed bodies are flushed
// as they come (logs, events), and 101 upgrades (attach, exec) are spliced both ways.
type Forwarder struct {
	leader    func() string
	transport *http.Transport
	proxy     *httputil.ReverseProxy
}

var _ http.Handler = (*Forwarder)(nil)
var _ http.RoundTripper = (*Forwarder)(nil)

type leaderAddrKey struct{}

// NewForwarder makes a forwarder that presents src's certificate; leaderAddr tells the leader's
// channel address now ("" when there is none).
func NewForwarder(src TLSSource, leaderAddr func() string) *Forwarder {
	f := &Forwarder{leader: leaderAddr}
	f.transport = &http.Transport{
		// the URL scheme is http: the connection the dialer returns is already TLS
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return dialTLS(ctx, addr, clientConfig(src, ProtoAPI))
		},
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	f.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host, _ = pr.In.Context().Value(leaderAddrKey{}).(string)
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
		},
		Transport:     f.transport,
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			writeAPIError(w, http.StatusServiceUnavailable, err.Error())
		},
	}
	return f
}

// ServeHTTP forwards r to the leader; with no leader it answers 503 with Docker's text.
func (f *Forwarder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	addr := f.leader()
	if addr == "" {
		writeAPIError(w, http.StatusServiceUnavailable, raft.ErrNoLeader.Error())
		return
	}
	f.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), leaderAddrKey{}, addr)))
}

// RoundTrip sends a request to the leader as it is (its URL's host is replaced).
func (f *Forwarder) RoundTrip(r *http.Request) (*http.Response, error) {
	addr := f.leader()
	if addr == "" {
		return nil, raft.ErrNoLeader
	}
	out := r.Clone(r.Context())
	out.URL.Scheme, out.URL.Host = "http", addr
	return f.transport.RoundTrip(out)
}

// Close drops idle connections to former leaders.
func (f *Forwarder) Close() { f.transport.CloseIdleConnections() }

func writeAPIError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

type forwardedByKey struct{}

// ForwardedBy is the node ID of the manager that forwarded r over the channel, or "" for a request
// that did not come through the channel. A handler must not forward such a request again.
func ForwardedBy(r *http.Request) string {
	id, _ := r.Context().Value(forwardedByKey{}).(string)
	return id
}

// apiConn is a shoal-api connection and the manager it authenticated.
type apiConn struct {
	net.Conn
	peer Peer
}

// serveAPI runs the attached Engine API handler for a forwarded request.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	h := s.apiH
	s.mu.Unlock()
	if h == nil || ForwardedBy(r) == "" {
		writeAPIError(w, http.StatusServiceUnavailable, "this node does not serve forwarded requests")
		return
	}
	h.ServeHTTP(w, r)
}
