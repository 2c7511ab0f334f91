package routes

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/swarm"
)

// serveOnce runs one request through New(cfg) in memory.
func serveOnce(h http.Handler, method, path, contentType, body string) *httptest.ResponseRecorder {
	var req *http.Request
	if body != "" {
		req = httptest.NewRequest(method, path, strings.NewReader(body))
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestVersionMiddleware(t *testing.T) {
	_, cfg := newTestEnvConfig()
	h := New(cfg)
	tests := []struct {
		name, method, path string
		status             int
		contentType        string
		body               string
	}{
		{"unprefixed", "GET", "/_ping", 200, "", "OK"},
		{"prefixed max", "GET", "/v1.51/_ping", 200, "", "OK"},
		{"prefixed min", "GET", "/v1.24/_ping", 200, "", "OK"},
		{"prefixed cli", "GET", "/v1.41/services", 200, "application/json", "[]\n"},
		{"too new", "GET", "/v1.52/version", 400, "application/json",
			`{"message":"client version 1.52 is too new. Maximum supported API version is 1.51"}` + "\n"},
		{"too old", "GET", "/v1.23/version", 400, "text/plain; charset=utf-8",
			"client version 1.23 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version\n"},
		{"too old two digits", "GET", "/v1.3/info", 400, "text/plain; charset=utf-8",
			"client version 1.3 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version\n"},
		{"unknown path", "GET", "/nope", 404, "application/json", `{"message":"page not found"}` + "\n"},
		{"unknown prefixed path", "GET", "/v1.41/nope", 404, "application/json", `{"message":"page not found"}` + "\n"},
		{"unknown path with bad version is still 404", "GET", "/v9.99/nope", 404, "application/json", `{"message":"page not found"}` + "\n"},
		{"wrong method", "DELETE", "/_ping", 404, "application/json", `{"message":"page not found"}` + "\n"},
		{"prefix without path", "GET", "/v1.41", 404, "application/json", `{"message":"page not found"}` + "\n"},
		{"options", "OPTIONS", "/v1.41/anything/at/all", 200, "", ""},
		{"networks trailing slash", "GET", "/networks/", 200, "application/json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serveOnce(h, tt.method, tt.path, "", "")
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d (body %q)", rec.Code, tt.status, rec.Body.String())
			}
			if tt.contentType != "" && rec.Header().Get("Content-Type") != tt.contentType {
				t.Errorf("Content-Type %q, want %q", rec.Header().Get("Content-Type"), tt.contentType)
			}
			if tt.body != "" && rec.Body.String() != tt.body {
				t.Errorf("body %q, want %q", rec.Body.String(), tt.body)
			}
			// Every response carries the daemon headers, errors and 404s included.
			for k, want := range map[string]string{"Server": "Docker/test-1.0 (linux)", "Api-Version": "1.51",
				"Ostype": "linux", "Docker-Experimental": "false"} {
				if got := rec.Header().Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestVersionConfigurable(t *testing.T) {
	_, cfg := newTestEnvConfig()
	cfg.MinAPIVersion, cfg.DefaultAPIVersion, cfg.Experimental = "1.40", "1.45", true
	h := New(cfg)
	if rec := serveOnce(h, "GET", "/v1.46/_ping", "", ""); rec.Code != 400 ||
		!strings.Contains(rec.Body.String(), "client version 1.46 is too new. Maximum supported API version is 1.45") {
		t.Errorf("1.46: %d %s", rec.Code, rec.Body)
	}
	if rec := serveOnce(h, "GET", "/v1.39/_ping", "", ""); rec.Code != 400 ||
		!strings.Contains(rec.Body.String(), "Minimum supported API version is 1.40") {
		t.Errorf("1.39: %d %s", rec.Code, rec.Body)
	}
	rec := serveOnce(h, "GET", "/_ping", "", "")
	if rec.Header().Get("Api-Version") != "1.45" || rec.Header().Get("Docker-Experimental") != "true" {
		t.Errorf("headers %v", rec.Header())
	}
}

func TestPingHeaders(t *testing.T) {
	_, cfg := newTestEnvConfig()
	h := New(cfg)
	for _, method := range []string{"GET", "HEAD"} {
		rec := serveOnce(h, method, "/_ping", "", "")
		if rec.Code != 200 {
			t.Fatalf("%s: status %d", method, rec.Code)
		}
		want := map[string]string{
			"Cache-Control": "no-cache, no-store, must-revalidate",
			"Pragma":        "no-cache",
			"Swarm":         "active/manager",
		}
		if method == "HEAD" {
			want["Content-Length"] = "0"
			want["Content-Type"] = "text/plain; charset=utf-8"
		}
		for k, v := range want {
			if got := rec.Header().Get(k); got != v {
				t.Errorf("%s: header %s = %q, want %q", method, k, got, v)
			}
		}
	}
	cfg.Cluster = nil
	if got := serveOnce(New(cfg), "HEAD", "/_ping", "", "").Header().Get("Swarm"); got != "inactive" {
		t.Errorf("no cluster: Swarm = %q", got)
	}
}

func TestSwarmStatus(t *testing.T) {
	tests := []struct {
		info swarm.Info
		want string
	}{
		{swarm.Info{}, "inactive"},
		{swarm.Info{LocalNodeState: swarm.LocalNodeStateInactive}, "inactive"},
		{swarm.Info{LocalNodeState: swarm.LocalNodeStatePending}, "pending"},
		{swarm.Info{LocalNodeState: swarm.LocalNodeStateError}, "error"},
		{swarm.Info{LocalNodeState: swarm.LocalNodeStateLocked}, "locked"},
		{swarm.Info{LocalNodeState: swarm.LocalNodeStateActive}, "active/worker"},
		{swarm.Info{LocalNodeState: swarm.LocalNodeStateActive, ControlAvailable: true}, "active/manager"},
	}
	for _, tt := range tests {
		if got := swarmStatusOf(tt.info); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.info, got, tt.want)
		}
	}
}

func TestNilBackends(t *testing.T) {
	h := New(Config{ServerVersion: "x"})
	tests := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/_ping", 200, "OK"},
		{"GET", "/v1.41/services", 501, `{"message":"swarm API is not available on this daemon"}` + "\n"},
		{"POST", "/swarm/init", 501, `{"message":"swarm API is not available on this daemon"}` + "\n"},
		{"GET", "/info", 501, `{"message":"system API is not available on this daemon"}` + "\n"},
		{"GET", "/events", 501, `{"message":"events API is not available on this daemon"}` + "\n"},
		{"GET", "/images/json", 501, `{"message":"image API is not available on this daemon"}` + "\n"},
		{"GET", "/distribution/a/b:1/json", 501, `{"message":"image API is not available on this daemon"}` + "\n"},
		{"POST", "/containers/c1/kill", 501, `{"message":"container API is not available on this daemon"}` + "\n"},
		{"POST", "/exec/e1/start", 501, `{"message":"container API is not available on this daemon"}` + "\n"},
		{"GET", "/networks", 200, "[]\n"},
		{"POST", "/networks/create", 501, `{"message":"swarm API is not available on this daemon"}` + "\n"},
		{"GET", "/networks/x", 404, `{"message":"network x not found"}` + "\n"},
		{"POST", "/networks/prune", 200, `{"NetworksDeleted":null}` + "\n"},
		{"GET", "/v1.99/info", 400, `{"message":"client version 1.99 is too new. Maximum supported API version is 1.51"}` + "\n"},
	}
	for _, tt := range tests {
		rec := serveOnce(h, tt.method, tt.path, "", "")
		if rec.Code != tt.status || rec.Body.String() != tt.body {
			t.Errorf("%s %s: %d %q, want %d %q", tt.method, tt.path, rec.Code, rec.Body, tt.status, tt.body)
		}
	}
	// /version works from Config alone.
	rec := serveOnce(h, "GET", "/version", "", "")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"ApiVersion":"1.51"`) ||
		!strings.Contains(rec.Body.String(), `"MinAPIVersion":"1.24"`) || !strings.Contains(rec.Body.String(), `"Version":"x"`) {
		t.Errorf("/version: %d %s", rec.Code, rec.Body)
	}
}
