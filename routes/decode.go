package routes

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/errdefs"
)

// readJSON decodes the request body into out with moby's httputils.ReadJSON rules: the Content-Type
// must be application/json when there is a body, an empty body leaves out untouched, unknown fields
// are ignored, and anything after the JSON value is an error.
func readJSON(r *http.Request, out any) error {
	if err := checkForJSON(r); err != nil {
		return err
	}
	if r.Body == nil || r.ContentLength == 0 {
		return nil
	}
	defer r.Body.Close()
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(out); err != nil {
		if errors.Is(err, io.EOF) {
			return invalidParam("invalid JSON: got EOF while reading request body")
		}
		return errdefs.InvalidParameter(fmt.Errorf("invalid JSON: %w", err))
	}
	if dec.More() {
		return invalidParam("unexpected content after JSON")
	}
	return nil
}

// checkForJSON accepts a missing Content-Type only when there is no body.
func checkForJSON(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" && (r.Body == nil || r.ContentLength == 0) {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return errdefs.InvalidParameter(fmt.Errorf("malformed Content-Type header (%s): %w", ct, err))
	}
	if mt != "application/json" {
		return invalidParam("unsupported Content-Type header (%s): must be 'application/json'", ct)
	}
	return nil
}

// parseForm parses the query and any urlencoded body; a POST without Content-Type is fine.
func parseForm(r *http.Request) error {
	if err := r.ParseForm(); err != nil && !strings.HasPrefix(err.Error(), "mime:") {
		return errdefs.InvalidParameter(err)
	}
	return nil
}

// boolValue reads a query flag as dockerd does: "", "0", "no", "false" and "none" are false,
// anything else is true.
func boolValue(r *http.Request, k string) bool {
	switch strings.ToLower(strings.TrimSpace(r.FormValue(k))) {
	case "", "0", "no", "false", "none":
		return false
	default:
		return true
	}
}

// boolValueOrDefault is boolValue, or d when the parameter is absent.
func boolValueOrDefault(r *http.Request, k string, d bool) bool {
	if _, ok := r.Form[k]; !ok {
		return d
	}
	return boolValue(r, k)
}

// strictBool parses an optional strconv.ParseBool parameter (insertDefaults, status, verbose...);
// a bad value is "invalid value for <k>: <v>: <cause>" (400).
func strictBool(r *http.Request, k string) (bool, error) {
	v := r.URL.Query().Get(k)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("invalid value for %s: %s: %w", k, v, errdefs.InvalidParameter(err))
	}
	return b, nil
}

// objectVersion parses the ?version= of an update, "invalid <kind> version '<raw>': <cause>" (400).
func objectVersion(r *http.Request, kind string) (uint64, error) {
	raw := r.URL.Query().Get("version")
	v, err := strconv.ParseUint(raw, 10, 64)
	if err != nil {
		return 0, invalidParam("invalid %s version '%s': %v", kind, raw, err)
	}
	return v, nil
}

// uint32Value parses a required uint32 parameter as moby's httputils.Uint32Value.
func uint32Value(r *http.Request, k string) (uint32, error) {
	v, neg := strings.CutPrefix(r.Form.Get(k), "-")
	if v == "" || v[0] == '+' {
		return 0, strconv.ErrSyntax
	}
	i, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0, errors.Unwrap(err)
	}
	if neg {
		return 0, strconv.ErrRange
	}
	return uint32(i), nil
}

// optionalSeconds parses the ?t= of stop and restart; a bad value is a plain error (500), as dockerd.
func optionalSeconds(r *http.Request) (*int, error) {
	raw := r.Form.Get("t")
	if raw == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

// registryAuth decodes X-Registry-Auth leniently, as dockerd does for pulls and distribution
// lookups: a missing or bad header means anonymous.
func registryAuth(r *http.Request) *registry.AuthConfig {
	ac, _ := registry.DecodeAuthConfig(r.Header.Get(registry.AuthHeader))
	return ac
}

// nonNil turns a nil slice into an empty one, so that lists encode as [] and never null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
