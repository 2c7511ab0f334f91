package image

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/errdefs"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// DecodeRegistryAuth decodes an X-Registry-Auth header (base64url of a JSON registry.AuthConfig, as
// the CLI sends it; "" and "e30=" give an empty config). Errors are errdefs.InvalidParameter.
func DecodeRegistryAuth(header string) (*registry.AuthConfig, error) {
	return registry.DecodeAuthConfig(header)
}

// authenticator turns the client's credentials into go-containerregistry's form; no credentials
// means anonymous access.
func authenticator(ac *registry.AuthConfig) authn.Authenticator {
	if ac == nil || (ac.Username == "" && ac.Password == "" && ac.Auth == "" &&
		ac.IdentityToken == "" && ac.RegistryToken == "") {
		return authn.Anonymous
	}
	return authn.FromConfig(authn.AuthConfig{
		Username:      ac.Username,
		Password:      ac.Password,
		Auth:          ac.Auth,
		IdentityToken: ac.IdentityToken,
		RegistryToken: ac.RegistryToken,
	})
}

// insecureSet is the set of registries reached over plain HTTP.
type insecureSet struct {
	hosts map[string]bool // "host" or "host:port", lower-case
	nets  []*net.IPNet
}

func newInsecureSet(list []string) (insecureSet, error) {
	s := insecureSet{hosts: map[string]bool{}}
	for _, entry := range list {
		entry = strings.ToLower(strings.TrimSpace(entry))
		entry = strings.TrimPrefix(strings.TrimPrefix(entry, "http://"), "https://")
		entry = strings.TrimSuffix(entry, "/")
		if entry == "" {
			continue
		}
		if strings.Contains(entry, "/") {
			_, n, err := net.ParseCIDR(entry)
			if err != nil {
				return s, fmt.Errorf("insecure registry %q is not a valid host, host:port or CIDR: %w", entry, err)
			}
			s.nets = append(s.nets, n)
			continue
		}
		s.hosts[entry] = true
	}
	return s, nil
}

// allows reports whether the registry at hostport ("host" or "host:port") may be reached over plain
// HTTP: a loopback address, localhost, or a registry listed (by host:port, host or CIDR).
func (s insecureSet) allows(hostport string) bool {
	hostport = strings.ToLower(hostport)
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" || s.hosts[hostport] || s.hosts[host] {
		return true
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	for _, n := range s.nets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// registryTransport sends requests to insecure registries without certificate checks and refuses
// plain-HTTP registry API calls to any other registry (go-containerregistry would otherwise fall
// back to HTTP for private-range addresses, which Docker does not do).
type registryTransport struct {
	secure, insecure http.RoundTripper
	set              insecureSet
}

func newRegistryTransport(set insecureSet) http.RoundTripper {
	secure := http.DefaultTransport.(*http.Transport).Clone()
	insecure := http.DefaultTransport.(*http.Transport).Clone()
	insecure.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // --insecure-registry
	return &registryTransport{secure: secure, insecure: insecure, set: set}
}

func (t *registryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.set.allows(req.URL.Host) {
		return t.insecure.RoundTrip(req)
	}
	if req.URL.Scheme == "http" && strings.HasPrefix(req.URL.Path, "/v2/") {
		return nil, fmt.Errorf("%s %q: refusing plain HTTP to registry %s, which is not an insecure registry",
			strings.ToUpper(req.Method[:1])+strings.ToLower(req.Method[1:]), req.URL.String(), req.URL.Host)
	}
	return t.secure.RoundTrip(req)
}

// remoteRef converts a normalised Docker reference to go-containerregistry's form.
func (s *Store) remoteRef(named reference.Named) (name.Reference, error) {
	var opts []name.Option
	if s.insecure.allows(reference.Domain(named)) {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.ParseReference(named.String(), opts...)
	if err != nil {
		return nil, errdefs.InvalidParameter(err)
	}
	return ref, nil
}

func (s *Store) remoteOptions(ctx context.Context, ac *registry.AuthConfig) []remote.Option {
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuth(authenticator(ac)),
		remote.WithTransport(s.transport),
		remote.WithUserAgent("shoal"),
	}
}

// registryError turns an error from a registry into Docker's error for it: "manifest for x:1 not
// found: manifest unknown: …" and the like (errdefs.NotFound), or the registry's own text
// (errdefs.Unknown) such as a connection error.
func registryError(err error, named reference.Named) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return errdefs.Unknown(errors.New(plainHTTPAttempt(err.Error())))
	}
	if len(terr.Errors) == 0 {
		if terr.StatusCode == http.StatusNotFound && terr.Request != nil &&
			strings.Contains(terr.Request.URL.Path, "/manifests/") {
			return errdefs.NotFound(fmt.Errorf("manifest for %s not found: manifest unknown: %s",
				reference.FamiliarString(named), http.StatusText(http.StatusNotFound)))
		}
		return errdefs.Unknown(err)
	}
	d := terr.Errors[0]
	cause := strings.ToLower(strings.ReplaceAll(string(d.Code), "_", " ")) + ": " + d.Message
	switch d.Code {
	case transport.ManifestUnknownErrorCode:
		return errdefs.NotFound(fmt.Errorf("manifest for %s not found: %s", reference.FamiliarString(named), cause))
	case transport.NameUnknownErrorCode:
		return errdefs.NotFound(fmt.Errorf("repository %s not found: %s", reference.FamiliarName(named), cause))
	case transport.DeniedErrorCode:
		return errdefs.NotFound(fmt.Errorf("pull access denied for %s, repository does not exist or may require 'docker login': %s",
			reference.FamiliarName(named), cause))
	}
	if terr.Request != nil {
		m := terr.Request.Method
		cause = fmt.Sprintf("%s %q: %s", strings.ToUpper(m[:1])+strings.ToLower(m[1:]), terr.Request.URL.String(), cause)
	}
	return errdefs.Unknown(errors.New(cause))
}

// parsePlatform parses "os/arch[/variant]"; errors are errdefs.InvalidParameter.
func parsePlatform(s string) (v1.Platform, error) {
	p, err := v1.ParsePlatform(s)
	if err != nil || p.OS == "" || p.Architecture == "" {
		return v1.Platform{}, errdefs.InvalidParameter(fmt.Errorf("invalid platform %q: expected os/arch[/variant]", s))
	}
	return *p, nil
}

// platformMatches reports whether an image of platform have runs on want.
func platformMatches(have, want v1.Platform) bool {
	if have.OS != want.OS || have.Architecture != want.Architecture {
		return false
	}
	return want.Variant == "" || have.Variant == want.Variant ||
		(want.Architecture == "arm64" && have.Variant == "" && want.Variant == "v8")
}

func platformString(p v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// plainHTTPAttempt keeps, of go-containerregistry's joined error for a registry reached both over
// HTTPS and plain HTTP (`Get "https://…": …; Get "http://…": …`), the plain-HTTP attempt, which is
// the one dockerd reports.
func plainHTTPAttempt(msg string) string {
	const sep = `; Get "http://`
	if strings.HasPrefix(msg, `Get "https://`) {
		if i := strings.Index(msg, sep); i >= 0 {
			return msg[i+2:]
		}
	}
	return msg
}
