package routes

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"runtime"
	"strconv"

	"github.com/docker/docker/api/types/versions"
)

// versionPrefix matches moby's "/v{version:[0-9.]+}" route prefix.
var versionPrefix = regexp.MustCompile(`^/v([0-9.]+)(/.*)$`)

type apiVersionKey struct{}

// stripVersionPrefix removes a "/v1.NN" prefix from the path and remembers the version in the request
// context, so that the router sees one path for both "/v1.51/services" and "/services". It routes on
// the decoded path, as moby's router does.
func stripVersionPrefix(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m := versionPrefix.FindStringSubmatch(r.URL.Path); m != nil {
			r2 := r.Clone(context.WithValue(r.Context(), apiVersionKey{}, m[1]))
			r2.URL.Path = m[2]
			r2.URL.RawPath = ""
			r = r2
		} else if r.URL.RawPath != "" {
			r2 := r.Clone(r.Context())
			r2.URL.RawPath = ""
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}

// requestedVersion is the version of the path prefix, "" when there was none.
func requestedVersion(r *http.Request) string {
	v, _ := r.Context().Value(apiVersionKey{}).(string)
	return v
}

// apiVersion is the API version a request is served at: its prefix, or the default version. Only
// meaningful after checkVersion accepted the request.
func (s *server) apiVersion(r *http.Request) string {
	if v := requestedVersion(r); v != "" {
		return v
	}
	return s.DefaultAPIVersion
}

// commonHeaders sets the headers dockerd sends on every response.
func (s *server) commonHeaders(next http.Handler) http.Handler {
	server := fmt.Sprintf("Docker/%s (%s)", s.ServerVersion, runtime.GOOS)
	experimental := strconv.FormatBool(s.Experimental)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Server", server)
		h.Set("Api-Version", s.DefaultAPIVersion)
		h.Set("Ostype", runtime.GOOS)
		h.Set("Docker-Experimental", experimental)
		next.ServeHTTP(w, r)
	})
}

// versionUnsupportedError is moby's error for a prefix outside [min, default].
type versionUnsupportedError struct {
	version, minVersion, maxVersion string
}

func (e versionUnsupportedError) Error() string {
	if e.minVersion != "" {
		return fmt.Sprintf("client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version", e.version, e.minVersion)
	}
	return fmt.Sprintf("client version %s is too new. Maximum supported API version is %s", e.version, e.maxVersion)
}

func (versionUnsupportedError) InvalidParameter() {}

// checkVersion refuses API versions outside [MinAPIVersion, DefaultAPIVersion]. It runs on matched
// routes only: an unknown path is a 404 whatever its version, as in moby.
func (s *server) checkVersion(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := s.apiVersion(r)
		var err error
		switch {
		case versions.LessThan(v, s.MinAPIVersion):
			err = versionUnsupportedError{version: v, minVersion: s.MinAPIVersion}
		case versions.GreaterThan(v, s.DefaultAPIVersion):
			err = versionUnsupportedError{version: v, maxVersion: s.DefaultAPIVersion}
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}
