package transport

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// leaderAPI is a stand-in for the leader's Engine API handler.
func leaderAPI(release <-chan struct{}) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1.47/info", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"ForwardedBy": ForwardedBy(r), "Query": r.URL.RawQuery, "Test": r.Header.Get("X-Test")})
	})
	mux.HandleFunc("GET /v1.47/containers/c1/logs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.docker.raw-stream")
		w.Write([]byte("line1\n"))
		w.(http.Flusher).Flush()
		<-release
		w.Write([]byte("line2\n"))
	})
	mux.HandleFunc("POST /v1.47/exec/e1/start", func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		io.WriteString(conn, "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
		line, err := buf.ReadString('\n')
		if err == nil {
			io.WriteString(conn, "echo: "+line)
		}
	})
	return mux
}

// readWithin reads n bytes from r or fails the test after d.
func readWithin(t *testing.T, r io.Reader, n int, d time.Duration) string {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		b := make([]byte, n)
		k, _ := io.ReadFull(r, b)
		got <- string(b[:k])
	}()
	select {
	case s := <-got:
		return s
	case <-time.After(d):
		t.Fatalf("nothing read within %v", d)
	}
	return ""
}

func TestForward(t *testing.T) {
	cl := newTestCluster(t, "cluster1")
	lsrv, laddr := listen(t, cl.manager(t, "leader"))
	release := make(chan struct{})
	lsrv.ServeAPI(leaderAPI(release))
	leader := laddr
	fwd := NewForwarder(cl.manager(t, "follower"), func() string { return leader })
	defer fwd.Close()
	front := httptest.NewServer(fwd)
	defer front.Close()
	hc := &http.Client{Timeout: 20 * time.Second}

	t.Run("GET", func(t *testing.T) {
		req, _ := http.NewRequest("GET", front.URL+"/v1.47/info?a=1", nil)
		req.Header.Set("X-Test", "kept")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]string
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
			t.Fatalf("status %d %v", resp.StatusCode, err)
		}
		if body["ForwardedBy"] != "follower" || body["Query"] != "a=1" || body["Test"] != "kept" {
			t.Fatalf("leader saw %v", body)
		}
	})

	t.Run("streamed logs", func(t *testing.T) {
		resp, err := http.Get(front.URL + "/v1.47/containers/c1/logs?follow=1")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if got := readWithin(t, resp.Body, 6, 10*time.Second); got != "line1\n" {
			t.Fatalf("first chunk %q", got)
		}
		close(release)
		rest, err := io.ReadAll(resp.Body)
		if err != nil || string(rest) != "line2\n" {
			t.Fatalf("rest %q %v", rest, err)
		}
	})

	t.Run("upgraded exec", func(t *testing.T) {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(front.URL, "http://"), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "POST /v1.47/exec/e1/start HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("upgrade answer %v %v", resp, err)
		}
		io.WriteString(c, "hello\n")
		line, err := br.ReadString('\n')
		if err != nil || line != "echo: hello\n" {
			t.Fatalf("through the upgraded stream: %q %v", line, err)
		}
	})

	t.Run("RoundTrip", func(t *testing.T) {
		req, _ := http.NewRequest("GET", "http://ignored/v1.47/info", nil)
		resp, err := fwd.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})

	t.Run("worker certificate refused", func(t *testing.T) {
		wf := NewForwarder(cl.worker(t, "w1"), func() string { return leader })
		defer wf.Close()
		rec := httptest.NewRecorder()
		wf.ServeHTTP(rec, httptest.NewRequest("GET", "/v1.47/info", nil))
		if rec.Code != http.StatusServiceUnavailable || strings.Contains(rec.Body.String(), "ForwardedBy") {
			t.Fatalf("worker forwarded: %d %s", rec.Code, rec.Body)
		}
	})

	t.Run("no leader", func(t *testing.T) {
		nf := NewForwarder(cl.manager(t, "follower"), func() string { return "" })
		rec := httptest.NewRecorder()
		nf.ServeHTTP(rec, httptest.NewRequest("GET", "/v1.47/info", nil))
		var body map[string]string
		json.NewDecoder(rec.Body).Decode(&body)
		if rec.Code != http.StatusServiceUnavailable || !strings.HasPrefix(body["message"], "The swarm does not have a leader") {
			t.Fatalf("no leader: %d %v", rec.Code, body)
		}
	})
}
