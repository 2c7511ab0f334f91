package routes

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/swarm"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestReadJSON(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		chunked                 bool
		wantErr                 string // "" for success
		wantName                string
	}{
		{name: "empty body, no content type"},
		{name: "empty body with content type", contentType: "application/json"},
		{name: "ok", contentType: "application/json", body: `{"Name":"web"}`, wantName: "web"},
		{name: "charset ok", contentType: "application/json; charset=utf-8", body: `{"Name":"web"}`, wantName: "web"},
		{name: "unknown fields ignored", contentType: "application/json", body: `{"Name":"web","Bogus":1}`, wantName: "web"},
		{name: "chunked", contentType: "application/json", body: `{"Name":"web"}`, chunked: true, wantName: "web"},
		{name: "trailing whitespace", contentType: "application/json", body: "{\"Name\":\"web\"}\n  ", wantName: "web"},
		{name: "no content type with body", body: `{}`,
			wantErr: "malformed Content-Type header (): mime: no media type"},
		{name: "wrong content type", contentType: "text/plain", body: `{}`,
			wantErr: "unsupported Content-Type header (text/plain): must be 'application/json'"},
		{name: "whitespace only", contentType: "application/json", body: " ",
			wantErr: "invalid JSON: got EOF while reading request body"},
		{name: "truncated", contentType: "application/json", body: `{"Name":`,
			wantErr: "invalid JSON: unexpected EOF"},
		{name: "syntax", contentType: "application/json", body: `{"Name":web}`,
			wantErr: "invalid JSON: invalid character 'w' looking for beginning of value"},
		{name: "type", contentType: "application/json", body: `{"Name":1}`,
			wantErr: "invalid JSON: json: cannot unmarshal number into Go struct field ServiceSpec.Annotations.Name of type string"},
		{name: "trailing data", contentType: "application/json", body: `{} {}`,
			wantErr: "unexpected content after JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			r := httptest.NewRequest("POST", "/services/create", body)
			if tt.body == "" {
				r.ContentLength = 0
			}
			if tt.chunked {
				r.ContentLength = -1
			}
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			var spec swarm.ServiceSpec
			err := readJSON(r, &spec)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if spec.Name != tt.wantName {
					t.Errorf("Name %q, want %q", spec.Name, tt.wantName)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			if statusFromError(err) != http.StatusBadRequest {
				t.Errorf("status %d, want 400", statusFromError(err))
			}
		})
	}
}

func TestQueryValues(t *testing.T) {
	r := httptest.NewRequest("GET", "/x?a=1&b=no&c=false&d=none&e=yes&f=&g=TRUE&h=0", nil)
	if err := parseForm(r); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]bool{"a": true, "b": false, "c": false, "d": false, "e": true, "f": false,
		"g": true, "h": false, "missing": false} {
		if got := boolValue(r, k); got != want {
			t.Errorf("boolValue(%s) = %v, want %v", k, got, want)
		}
	}
	if !boolValueOrDefault(r, "missing", true) || boolValueOrDefault(r, "f", true) {
		t.Error("boolValueOrDefault")
	}

	versions := []struct {
		query, kind string
		want        uint64
		wantErr     string
	}{
		{"version=12", "service", 12, ""},
		{"", "service", 0, `invalid service version '': strconv.ParseUint: parsing "": invalid syntax`},
		{"version=x", "node", 0, `invalid node version 'x': strconv.ParseUint: parsing "x": invalid syntax`},
		{"version=-1", "swarm", 0, `invalid swarm version '-1': strconv.ParseUint: parsing "-1": invalid syntax`},
	}
	for _, tt := range versions {
		r := httptest.NewRequest("POST", "/x?"+tt.query, nil)
		got, err := objectVersion(r, tt.kind)
		if tt.wantErr == "" && (err != nil || got != tt.want) {
			t.Errorf("%q: %d %v", tt.query, got, err)
		}
		if tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr || statusFromError(err) != 400) {
			t.Errorf("%q: error %v, want %q", tt.query, err, tt.wantErr)
		}
	}

	sizes := []struct {
		v       string
		want    uint32
		wantErr bool
	}{{"10", 10, false}, {"", 0, true}, {"+1", 0, true}, {"-1", 0, true}, {"x", 0, true}, {"4294967296", 0, true}}
	for _, tt := range sizes {
		r := httptest.NewRequest("POST", "/x?h="+tt.v, nil)
		_ = parseForm(r)
		got, err := uint32Value(r, "h")
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("uint32Value(%q) = %d, %v", tt.v, got, err)
		}
	}

	r = httptest.NewRequest("GET", "/x?insertDefaults=maybe", nil)
	if _, err := strictBool(r, "insertDefaults"); err == nil || statusFromError(err) != 400 ||
		err.Error() != `invalid value for insertDefaults: maybe: strconv.ParseBool: parsing "maybe": invalid syntax` {
		t.Errorf("strictBool: %v", err)
	}
}

// TestMalformedBodies drives the decoding rules through real handlers.
func TestMalformedBodies(t *testing.T) {
	env := startEnv(t)
	tests := []struct {
		method, path, ct, body string
		status                 int
		message                string
	}{
		{"POST", "/v1.41/services/create", "application/json", `{"Name":`, 400, "invalid JSON: unexpected EOF"},
		{"POST", "/v1.41/services/create", "text/plain", `{}`, 400, "unsupported Content-Type header (text/plain): must be 'application/json'"},
		{"POST", "/v1.41/services/create", "application/json", `{"Name":"a"} x`, 400, "unexpected content after JSON"},
		{"POST", "/v1.41/services/create", "application/json", `{"Mode":{"Replicated":{"Replicas":-1}}}`, 400,
			"invalid JSON: json: cannot unmarshal number -1 into Go struct field ReplicatedService.Mode.Replicated.Replicas of type uint64"},
		{"POST", "/v1.41/services/create", "", "", 400, "ContainerSpec: image reference must be provided"},
		{"POST", "/v1.41/services/abc/update?version=x", "application/json", `{}`, 400,
			`invalid service version 'x': strconv.ParseUint: parsing "x": invalid syntax`},
		{"POST", "/v1.41/secrets/abc/update?version=x", "application/json", `{}`, 400, "invalid secret version"},
		{"POST", "/v1.41/configs/abc/update", "application/json", `{}`, 400, "invalid config version"},
		{"POST", "/v1.41/swarm/update?version=1&rotateWorkerToken=maybe", "application/json", `{}`, 400,
			"invalid value for rotateWorkerToken: maybe"},
		{"POST", "/v1.41/containers/c1/exec", "application/json", `{"Cmd":[]}`, 400, "No exec command specified"},
		{"POST", "/v1.41/exec/exec1/resize?h=x&w=1", "", "", 400, `invalid resize height "x": invalid syntax`},
	}
	for _, tt := range tests {
		resp, body := env.do(t, tt.method, tt.path, tt.ct, tt.body)
		want := `{"message":` + quote(tt.message) + "}\n"
		if resp.StatusCode != tt.status || body != want {
			t.Errorf("%s %s %q: %d %s, want %d %s", tt.method, tt.path, tt.body, resp.StatusCode, body, tt.status, want)
		}
	}
}
