package openapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustLoad(t *testing.T) *Contract {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

// trace is one recorded dockerd exchange from testdata/traces (copied from
// shared/reference/traces: real request and response bodies).
type trace struct {
	Request struct {
		Method string `json:"method"`
		URI    string `json:"uri"`
	} `json:"request"`
	Response struct {
		Status  int             `json:"status"`
		Headers http.Header     `json:"headers"`
		Body    json.RawMessage `json:"body"`
	} `json:"response"`
}

// body returns the response body as dockerd sent it on the wire.
func (tr *trace) body(t *testing.T) []byte {
	raw := tr.Response.Body
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return nil
	case raw[0] == '"': // raw stream (logs), stored as a JSON string
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		return []byte(s)
	case raw[0] == '[' && strings.Contains(tr.Request.URI, "/events"):
		// The tracer stored the events stream as a list: send it as a stream.
		var vals []json.RawMessage
		if err := json.Unmarshal(raw, &vals); err != nil {
			t.Fatal(err)
		}
		var b []byte
		for _, v := range vals {
			b = append(append(b, v...), '\n')
		}
		return b
	}
	return raw
}

func readTrace(t *testing.T, name string) *trace {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "traces", name))
	if err != nil {
		t.Fatal(err)
	}
	var tr trace
	if err := json.Unmarshal(data, &tr); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &tr
}

// TestRealDockerdResponsesPass checks every recorded dockerd response against
// the contract: the relaxations must be enough for what Docker really sends.
func TestRealDockerdResponsesPass(t *testing.T) {
	c := mustLoad(t)
	files, err := filepath.Glob(filepath.Join("testdata", "traces", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	mustHave := map[string]bool{
		"service-inspect-full.json": false, "node-list.json": false, "task-inspect.json": false,
		"swarm-inspect.json": false, "info.json": false, "network-list.json": false,
		"config-create-request.json": false, "events-type-service-stream.json": false,
		"container-logs.json": false, "exec-start-upgrade.json": false, "node-rm-refused.json": false,
	}
	checked := 0
	for _, f := range files {
		name := filepath.Base(f)
		tr := readTrace(t, name)
		if tr.Response.Status == 0 {
			continue
		}
		t.Run(name, func(t *testing.T) {
			err := c.CheckResponse(tr.Request.Method, tr.Request.URI, tr.Response.Status, tr.Response.Headers, tr.body(t))
			if err != nil {
				t.Errorf("real dockerd response rejected: %v", err)
			}
		})
		checked++
		if _, ok := mustHave[name]; ok {
			mustHave[name] = true
		}
	}
	for name, seen := range mustHave {
		if !seen {
			t.Errorf("trace %s missing from testdata", name)
		}
	}
	if checked < 40 {
		t.Errorf("checked %d traces, want at least 40", checked)
	}
}

// mutate decodes a trace body, applies f and re-encodes it.
func mutate(t *testing.T, tr *trace, f func(v any) any) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(tr.Response.Body, &v); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(f(v))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func obj(v any, path ...string) map[string]any {
	m := v.(map[string]any)
	for _, p := range path {
		m = m[p].(map[string]any)
	}
	return m
}

func TestBrokenResponsesFail(t *testing.T) {
	c := mustLoad(t)
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	svc := readTrace(t, "service-inspect-full.json")
	nodes := readTrace(t, "node-list.json")
	info := readTrace(t, "info.json")
	task := readTrace(t, "task-inspect.json")

	tests := []struct {
		name       string
		method     string
		uri        string
		status     int
		header     http.Header
		body       []byte
		wantInText string
	}{
		{"replicas as a string", "GET", "/v1.51/services/x", 200, jsonHeader,
			mutate(t, svc, func(v any) any {
				obj(v, "Spec", "Mode", "Replicated")["Replicas"] = "1"
				return v
			}), "Replicas"},
		{"list answered null", "GET", "/v1.51/services", 200, jsonHeader, []byte("null"), "null"},
		{"node list answered null", "GET", "/v1.51/nodes", 200, jsonHeader, []byte("null\n"), "null"},
		{"list answered object", "GET", "/v1.51/nodes", 200, jsonHeader, []byte(`{}`), "array"},
		{"node role outside enum", "GET", "/v1.51/nodes", 200, jsonHeader,
			mutate(t, nodes, func(v any) any {
				obj(v.([]any)[0], "Spec")["Role"] = "boss"
				return v
			}), "Role"},
		{"null item in a list", "GET", "/v1.51/nodes", 200, jsonHeader,
			mutate(t, nodes, func(v any) any { return append(v.([]any), nil) }), "/1"},
		{"version index as a string", "GET", "/tasks/abc", 200, jsonHeader,
			mutate(t, task, func(v any) any {
				obj(v, "Version")["Index"] = "12"
				return v
			}), "Index"},
		{"info NCPU as a string", "GET", "/v1.41/info", 200, jsonHeader,
			mutate(t, info, func(v any) any {
				obj(v)["NCPU"] = "2"
				return v
			}), "NCPU"},
		{"config create with Id", "POST", "/v1.51/configs/create", 201, jsonHeader, []byte(`{"Id":"abc"}`), "ID"},
		{"service create ID as a number", "POST", "/v1.51/services/create", 201, jsonHeader, []byte(`{"ID":5}`), "ID"},
		{"undocumented success status", "POST", "/v1.51/services/create", 200, jsonHeader, []byte(`{"ID":"x"}`), "not documented"},
		{"error without message", "GET", "/v1.51/services/x", 404, jsonHeader, []byte(`{"error":"no"}`), "message"},
		{"undocumented error status, plain text", "GET", "/v1.51/services/x", 418, http.Header{"Content-Type": {"text/plain"}}, []byte("teapot"), "Content-Type"},
		{"empty body where JSON is due", "GET", "/v1.51/swarm", 200, jsonHeader, nil, "empty body"},
		{"JSON without Content-Type", "GET", "/v1.51/swarm", 200, http.Header{}, []byte(`{}`), "Content-Type"},
		{"not JSON", "GET", "/v1.51/swarm", 200, jsonHeader, []byte(`{"ID":`), "not JSON"},
		{"bad event in a stream", "GET", "/v1.51/events", 200, jsonHeader,
			[]byte(`{"Type":"service","Action":"create"}` + "\n" + `{"Type":42}` + "\n"), "stream value 1"},
		{"unknown route", "GET", "/v1.51/nonsense", 200, jsonHeader, []byte(`{}`), "no such route"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.CheckResponse(tt.method, tt.uri, tt.status, tt.header, tt.body)
			if err == nil {
				t.Fatalf("CheckResponse accepted a broken response")
			}
			if !strings.Contains(err.Error(), tt.wantInText) {
				t.Errorf("error %q does not mention %q", err, tt.wantInText)
			}
		})
	}
}

func TestGoodResponsesPass(t *testing.T) {
	c := mustLoad(t)
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name   string
		method string
		uri    string
		status int
		header http.Header
		body   []byte
	}{
		{"empty list", "GET", "/v1.51/services", 200, jsonHeader, []byte("[]\n")},
		{"null member is absent", "POST", "/v1.51/services/x/update?version=3", 200, jsonHeader, []byte(`{"Warnings":null}`)},
		{"documented 404", "GET", "/services/x", 404, jsonHeader, []byte(`{"message":"service x not found"}`)},
		{"undocumented 400 with Docker's error shape", "GET", "/v1.51/services/x", 400, jsonHeader, []byte(`{"message":"bad"}`)},
		{"secret create answers ID", "POST", "/v1.51/secrets/create", 201, jsonHeader, []byte(`{"ID":"abc"}`)},
		{"no content", "DELETE", "/v1.51/services/x", 200, http.Header{}, nil},
		{"ping", "GET", "/_ping", 200, http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, []byte("OK")},
		{"head ping", "HEAD", "/_ping", 200, http.Header{}, nil},
		{"attach upgrade", "POST", "/v1.51/containers/abc/attach?stream=1", 101, http.Header{}, nil},
		{"exec upgrade", "POST", "/v1.51/exec/abc/start", 101, http.Header{}, nil},
		{"empty event stream", "GET", "/v1.51/events", 200, jsonHeader, []byte(`{"Type":"service","Action":"create","Actor":{"ID":"x","Attributes":{}},"scope":"swarm","time":1,"timeNano":1}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.CheckResponse(tt.method, tt.uri, tt.status, tt.header, tt.body); err != nil {
				t.Errorf("CheckResponse rejected a good response: %v", err)
			}
		})
	}
}

func TestCheckRoute(t *testing.T) {
	c := mustLoad(t)
	tests := []struct {
		method, path string
		want         string // swagger route, or "" for an error
		notAllowed   bool
	}{
		{"HEAD", "/_ping", "/_ping", false},
		{"GET", "/v1.41/services/Web?insertDefaults=true", "/services/{id}", false},
		{"GET", "/v1.51/services/Web/logs", "/services/{id}/logs", false},
		{"POST", "/v1.51/services/create", "/services/create", false},
		{"GET", "/v1.51/containers/json", "/containers/json", false},
		{"GET", "/v1.51/containers/abc/json", "/containers/{id}/json", false},
		{"GET", "/v1.51/images/docker.io/library/busybox:latest/json", "/images/{name}/json", false},
		{"GET", "/v1.51/images/json", "/images/json", false},
		{"GET", "/v1.51/distribution/127.0.0.1:5000/bb:1/json", "/distribution/{name}/json", false},
		{"POST", "/v1.51/images/127.0.0.1:5000/bb/push?tag=1", "/images/{name}/push", false},
		{"GET", "/services", "/services", false},
		{"GET", "/v{version}/services/{id}", "/services/{id}", false}, // a chi route pattern
		{"DELETE", "/images/{name:.*}", "/images/{name}", false},
		{"PUT", "/v1.51/services", "", true},
		{"GET", "/v1.51/nothing/here", "", false},
		{"GET", "/v1.51/services/a/b/c", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			m, err := c.find(tt.method, tt.path)
			if tt.want == "" {
				var re *RouteError
				if !errors.As(err, &re) {
					t.Fatalf("want RouteError, got %v", err)
				}
				if re.MethodNotAllowed != tt.notAllowed {
					t.Errorf("MethodNotAllowed = %v, want %v", re.MethodNotAllowed, tt.notAllowed)
				}
				if c.CheckRoute(tt.method, tt.path) == nil {
					t.Error("CheckRoute accepted it")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.path != tt.want {
				t.Errorf("matched %s, want %s", m.path, tt.want)
			}
		})
	}
}

func TestStripVersion(t *testing.T) {
	tests := map[string]string{
		"/v1.41/services/x?a=b":  "/services/x",
		"/v1.51/_ping":           "/_ping",
		"/_ping":                 "/_ping",
		"/v1.51":                 "/",
		"/v2/services":           "/services",
		"/version":               "/version",
		"/volumes":               "/volumes",
		"/v{version}/tasks/{id}": "/tasks/{id}",
		"/vx/tasks":              "/vx/tasks",
	}
	for in, want := range tests {
		if got := StripVersion(in); got != want {
			t.Errorf("StripVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestContractCoversSwarmRoutes(t *testing.T) {
	c := mustLoad(t)
	if c.Version() != "1.51" {
		t.Errorf("swagger version %q, want 1.51", c.Version())
	}
	routes := strings.Join(c.Routes(), "\n")
	for _, r := range []string{"POST /swarm/init", "GET /services/{id}", "GET /tasks", "POST /nodes/{id}/update", "HEAD /_ping"} {
		if !strings.Contains(routes, r+"\n") && !strings.HasSuffix(routes, r) {
			t.Errorf("route %s missing from contract", r)
		}
	}
}
