package openapi

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// versionPrefix matches the optional API version prefix of a request path,
// or of a route pattern (chi's /v{version}).
var versionPrefix = regexp.MustCompile(`^/v([0-9]+(\.[0-9]+)?|\{[^}/]*\})(/|$)`)

// StripVersion removes a leading /vN.NN (or a pattern's /v{version}) from an
// Engine API path and drops the query string:
// "/v1.41/services/x?insertDefaults=true" gives "/services/x".
func StripVersion(path string) string {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if loc := versionPrefix.FindStringIndex(path); loc != nil {
		path = "/" + path[loc[1]:]
	}
	if path == "" {
		path = "/"
	}
	return path
}

// template is one path of the swagger, compiled for matching.
type template struct {
	path    string // as written in the swagger, e.g. /services/{id}
	re      *regexp.Regexp
	params  []string
	literal int // number of literal characters: more literal wins a tie
	item    *openapi3.PathItem
}

// multiSegmentParams are path parameters that may hold slashes, as in dockerd's
// router (`{name:.*}`): image references and plugin names.
var multiSegmentParams = map[string]bool{"name": true}

// multiSegmentRoots are the path roots whose {name} parameter is a reference.
var multiSegmentRoots = []string{"/images/", "/distribution/", "/plugins/"}

var paramRe = regexp.MustCompile(`\{([^}]+)\}`)

func compileTemplate(path string, item *openapi3.PathItem) (*template, error) {
	multi := false
	for _, root := range multiSegmentRoots {
		if strings.HasPrefix(path, root) {
			multi = true
		}
	}
	t := &template{path: path, item: item}
	var b strings.Builder
	b.WriteString("^")
	last := 0
	for _, m := range paramRe.FindAllStringSubmatchIndex(path, -1) {
		lit := path[last:m[0]]
		b.WriteString(regexp.QuoteMeta(lit))
		t.literal += len(lit)
		name := path[m[2]:m[3]]
		t.params = append(t.params, name)
		if multi && multiSegmentParams[name] {
			b.WriteString("(.+)")
		} else {
			b.WriteString("([^/]+)")
		}
		last = m[1]
	}
	b.WriteString(regexp.QuoteMeta(path[last:]))
	t.literal += len(path) - last
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("openapi: compile path %s: %w", path, err)
	}
	t.re = re
	return t, nil
}

// sortTemplates orders templates so that the first match is the most specific:
// more literal characters first, then fewer parameters.
func sortTemplates(ts []*template) {
	sort.SliceStable(ts, func(i, j int) bool {
		if ts[i].literal != ts[j].literal {
			return ts[i].literal > ts[j].literal
		}
		if len(ts[i].params) != len(ts[j].params) {
			return len(ts[i].params) < len(ts[j].params)
		}
		return ts[i].path < ts[j].path
	})
}

// match is a resolved route: the operation of the swagger a request hits.
type match struct {
	path      string
	item      *openapi3.PathItem
	operation *openapi3.Operation
	params    map[string]string
}

// RouteError says a request does not name an Engine API operation.
type RouteError struct {
	Method, Path string
	// MethodNotAllowed is true when the path exists but not with this method.
	MethodNotAllowed bool
}

func (e *RouteError) Error() string {
	if e.MethodNotAllowed {
		return fmt.Sprintf("%s %s: path is in the Engine API but not with method %s", e.Method, e.Path, e.Method)
	}
	return fmt.Sprintf("%s %s: no such route in the Engine API", e.Method, e.Path)
}

// find resolves method and a request path (version prefix and query allowed).
func (c *Contract) find(method, rawPath string) (*match, error) {
	method = strings.ToUpper(method)
	path := StripVersion(rawPath)
	pathFound := false
	for _, t := range c.templates {
		sub := t.re.FindStringSubmatch(path)
		if sub == nil {
			continue
		}
		pathFound = true
		op := operationFor(t.item, method)
		if op == nil {
			continue
		}
		params := make(map[string]string, len(t.params))
		for i, name := range t.params {
			params[name] = sub[i+1]
		}
		return &match{path: t.path, item: t.item, operation: op, params: params}, nil
	}
	return nil, &RouteError{Method: method, Path: path, MethodNotAllowed: pathFound}
}

// operationFor returns the operation of item for method. HEAD does not fall
// back to GET: dockerd's router registers HEAD only where the swagger has it.
func operationFor(item *openapi3.PathItem, method string) *openapi3.Operation {
	return item.GetOperation(method)
}
