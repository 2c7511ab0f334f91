package image

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/distribution/reference"
	"github.com/docker/docker/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

func TestParseReference(t *testing.T) {
	const dgst = "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
	tests := []struct {
		in, full, familiar string
		wantErr            bool
	}{
		{in: "busybox", full: "docker.io/library/busybox:latest", familiar: "busybox:latest"},
		{in: "busybox:1.36", full: "docker.io/library/busybox:1.36", familiar: "busybox:1.36"},
		{in: "docker.io/library/busybox", full: "docker.io/library/busybox:latest", familiar: "busybox:latest"},
		{in: "someone/app", full: "docker.io/someone/app:latest", familiar: "someone/app:latest"},
		{in: "127.0.0.1:5000/whoami:1", full: "127.0.0.1:5000/whoami:1", familiar: "127.0.0.1:5000/whoami:1"},
		{in: "localhost/x", full: "localhost/x:latest", familiar: "localhost/x:latest"},
		{in: "busybox@" + dgst, full: "docker.io/library/busybox@" + dgst, familiar: "busybox@" + dgst},
		{in: "bb:1@" + dgst, full: "docker.io/library/bb@" + dgst, familiar: "bb@" + dgst},
		{in: "Busybox", wantErr: true},
		{in: "", wantErr: true},
		{in: "a b", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseReference(tt.in)
		if tt.wantErr {
			if err == nil || !errdefs.IsInvalidParameter(err) {
				t.Errorf("ParseReference(%q) = %v, %v; want invalid parameter", tt.in, got, err)
			}
			continue
		}
		if err != nil || got.String() != tt.full || reference.FamiliarString(got) != tt.familiar {
			t.Errorf("ParseReference(%q) = %v, %v; want %s", tt.in, got, err, tt.full)
		}
		if fs := FamiliarString(tt.in); fs != tt.familiar {
			t.Errorf("FamiliarString(%q) = %q, want %q", tt.in, fs, tt.familiar)
		}
	}
}

func TestInsecureRegistries(t *testing.T) {
	set, err := newInsecureSet([]string{"myreg.example:5000", "plain.example", "10.20.0.0/16", "http://withscheme:1/"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host string
		want bool
	}{
		{"127.0.0.1:5000", true},
		{"127.1.2.3", true},
		{"[::1]:5000", true},
		{"localhost:5000", true},
		{"localhost", true},
		{"myreg.example:5000", true},
		{"myreg.example:5001", false},
		{"plain.example:443", true},
		{"10.20.3.4:5000", true},
		{"10.21.3.4:5000", false},
		{"192.168.1.1:5000", false},
		{"registry-1.docker.io", false},
		{"withscheme:1", true},
	}
	for _, tt := range tests {
		if got := set.allows(tt.host); got != tt.want {
			t.Errorf("allows(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
	if _, err := newInsecureSet([]string{"10.0.0.0/99"}); err == nil {
		t.Error("bad CIDR accepted")
	}
}

func TestRegistryTransportRefusesPlainHTTPToSecureRegistries(t *testing.T) {
	set, _ := newInsecureSet([]string{"insecure.example"})
	var secure, insecure []string
	rt := &registryTransport{set: set,
		secure:   recordingRT(func(r *http.Request) { secure = append(secure, r.URL.String()) }),
		insecure: recordingRT(func(r *http.Request) { insecure = append(insecure, r.URL.String()) }),
	}
	for _, u := range []string{"http://192.168.1.1:5000/v2/", "https://192.168.1.1:5000/v2/", "http://insecure.example/v2/", "http://auth.example/token"} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		_, err := rt.RoundTrip(req)
		if u == "http://192.168.1.1:5000/v2/" &&
			(err == nil || err.Error() != `Get "http://192.168.1.1:5000/v2/": refusing plain HTTP to registry 192.168.1.1:5000, which is not an insecure registry`) {
			t.Errorf("err = %v", err)
		}
	}
	if want := []string{"https://192.168.1.1:5000/v2/", "http://auth.example/token"}; !slices.Equal(secure, want) {
		t.Errorf("secure transport got %v, want %v", secure, want)
	}
	if want := []string{"http://insecure.example/v2/"}; !slices.Equal(insecure, want) {
		t.Errorf("insecure transport got %v, want %v", insecure, want)
	}
}

// recordingRT records requests and answers 200 without any network traffic.
type recordingRT func(*http.Request)

func (f recordingRT) RoundTrip(r *http.Request) (*http.Response, error) {
	f(r)
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, nil
}

func TestRegistryError(t *testing.T) {
	named, _ := ParseReference("127.0.0.1:5000/app:1")
	hub, _ := ParseReference("someone/private")
	req := &http.Request{Method: http.MethodGet, URL: &url.URL{Scheme: "https", Host: "127.0.0.1:5000", Path: "/v2/app/manifests/1"}}
	diag := func(code transport.ErrorCode, msg string) error {
		return &transport.Error{Errors: []transport.Diagnostic{{Code: code, Message: msg}}, StatusCode: 400, Request: req}
	}
	tests := []struct {
		err      error
		ref      reference.Named
		want     string
		notFound bool
	}{
		{diag(transport.ManifestUnknownErrorCode, "manifest unknown"), named, "manifest for 127.0.0.1:5000/app:1 not found: manifest unknown: manifest unknown", true},
		{diag(transport.NameUnknownErrorCode, "repository name not known to registry"), named, "repository 127.0.0.1:5000/app not found: name unknown: repository name not known to registry", true},
		{diag(transport.DeniedErrorCode, "requested access to the resource is denied"), hub,
			"pull access denied for someone/private, repository does not exist or may require 'docker login': denied: requested access to the resource is denied", true},
		{diag(transport.UnauthorizedErrorCode, "authentication required"), named, `Get "https://127.0.0.1:5000/v2/app/manifests/1": unauthorized: authentication required`, false},
		{&transport.Error{StatusCode: 404, Request: req}, named, "manifest for 127.0.0.1:5000/app:1 not found: manifest unknown: Not Found", true},
		{errors.New(`Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused`), named,
			`Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused`, false},
	}
	for _, tt := range tests {
		got := registryError(tt.err, tt.ref)
		if got.Error() != tt.want || errdefs.IsNotFound(got) != tt.notFound {
			t.Errorf("registryError(%v) = %q (notFound %v), want %q", tt.err, got, errdefs.IsNotFound(got), tt.want)
		}
	}
}

func TestIsSingleReference(t *testing.T) {
	const dgst = "@sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
	refs := func(ss ...string) []reference.Named {
		var out []reference.Named
		for _, s := range ss {
			n, err := reference.ParseNormalizedNamed(s)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, n)
		}
		return out
	}
	tests := []struct {
		refs []reference.Named
		want bool
	}{
		{nil, false},
		{refs("a:1"), true},
		{refs("a:1", "a:2"), false},
		{refs("a:1", "a"+dgst), true},
		{refs("a:1", "b"+dgst), false},
		{refs("a"+dgst, "b"+dgst), false},
	}
	for i, tt := range tests {
		if got := isSingleReference(tt.refs); got != tt.want {
			t.Errorf("#%d isSingleReference = %v, want %v", i, got, tt.want)
		}
	}
}

func TestPlatformMatches(t *testing.T) {
	tests := []struct {
		have, want string
		match      bool
	}{
		{"linux/amd64", "linux/amd64", true},
		{"linux/arm64/v8", "linux/arm64", true},
		{"linux/arm64", "linux/arm64/v8", true},
		{"linux/arm/v6", "linux/arm/v7", false},
		{"linux/arm64", "linux/amd64", false},
		{"windows/amd64", "linux/amd64", false},
	}
	for _, tt := range tests {
		have, _ := v1.ParsePlatform(tt.have)
		want, _ := v1.ParsePlatform(tt.want)
		if got := platformMatches(*have, *want); got != tt.match {
			t.Errorf("platformMatches(%s, %s) = %v", tt.have, tt.want, got)
		}
	}
	if _, err := parsePlatform("linux"); !errdefs.IsInvalidParameter(err) {
		t.Errorf("parsePlatform(linux) = %v", err)
	}
}
