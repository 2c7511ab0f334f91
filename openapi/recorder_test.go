package openapi

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeDaemon serves canned Engine API answers on a unix socket (a test fake:
// the Recorder under test sits between it and a client).
func fakeDaemon(t *testing.T, socket string, info []byte) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1.51/info", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(info)
	})
	mux.HandleFunc("GET /v1.51/services", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "null\n")
	})
	mux.HandleFunc("GET /v1.51/bogus", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(404)
		io.WriteString(w, `{"message":"page not found"}`)
	})
	mux.HandleFunc("GET /v1.51/events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		io.WriteString(w, `{"Type":"service","Action":"create","Actor":{"ID":"a","Attributes":{}},"scope":"swarm","time":1,"timeNano":1}`+"\n")
		io.WriteString(w, `{"Type":"service","Action":7}`+"\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	mux.HandleFunc("POST /v1.51/containers/abc/attach", func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n') // echo one line, then close
		brw.WriteString("echo:" + line)
		brw.Flush()
	})
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

func TestRecorderProxy(t *testing.T) {
	c := mustLoad(t)
	dir := t.TempDir()
	daemonSock := filepath.Join(dir, "daemon.sock")
	fakeDaemon(t, daemonSock, readTrace(t, "info.json").Response.Body)

	rec := NewRecorder(c, UnixTransport(daemonSock))
	proxy, err := rec.ServeUnix(filepath.Join(dir, "proxy.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	client := &http.Client{Transport: UnixTransport(proxy.Socket), Timeout: 10 * time.Second}

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := client.Get("http://docker" + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	// A good response passes through unchanged and records nothing.
	status, body := get("/v1.51/info")
	var v map[string]any
	if status != 200 || json.Unmarshal([]byte(body), &v) != nil || v["ID"] == nil {
		t.Fatalf("info through proxy: %d %.100s", status, body)
	}
	if vs := rec.Violations(); len(vs) != 0 {
		t.Fatalf("good info recorded violations: %v", vs)
	}

	// A null list is a violation.
	if status, body := get("/v1.51/services"); status != 200 || body != "null\n" {
		t.Fatalf("services through proxy: %d %q", status, body)
	}
	// A route outside the Engine API is a violation.
	get("/v1.51/bogus")

	// An endless stream is checked when the client hangs up.
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://docker/v1.51/events", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	for i := 0; i < 2; i++ {
		if _, err := br.ReadString('\n'); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	cancel()
	resp.Body.Close()

	// A hijacked stream works both ways through the proxy.
	conn, err := net.Dial("unix", proxy.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "POST /v1.51/containers/abc/attach?stream=1 HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n")
	cr := bufio.NewReader(conn)
	hresp, err := http.ReadResponse(cr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if hresp.StatusCode != 101 {
		t.Fatalf("attach status %d", hresp.StatusCode)
	}
	io.WriteString(conn, "hello\n")
	line, err := cr.ReadString('\n')
	if err != nil || line != "echo:hello\n" {
		t.Fatalf("attach echo: %q %v", line, err)
	}

	want := []string{"/v1.51/services", "/v1.51/bogus", "/v1.51/events"}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := rec.Err()
		ok := got != nil
		for _, w := range want {
			ok = ok && strings.Contains(got.Error(), w)
		}
		if ok {
			if n := len(rec.Violations()); n != 3 {
				t.Errorf("want 3 violations, got %d:\n%v", n, got)
			}
			if strings.Contains(got.Error(), "attach") || strings.Contains(got.Error(), "/info") {
				t.Errorf("good exchanges recorded as violations:\n%v", got)
			}
			if rec.Checked() < 4 {
				t.Errorf("checked %d responses, want >= 4", rec.Checked())
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("violations not recorded in time; have: %v", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
