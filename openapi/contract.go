package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// Contract is the Engine API swagger prepared for checks. It is immutable and
// safe for concurrent use.
type Contract struct {
	doc       *openapi3.T
	version   string
	templates []*template
	errorBody *openapi3.SchemaRef // ErrorResponse, for undocumented error statuses
}

func newContract(doc *openapi3.T, version string) (*Contract, error) {
	c := &Contract{doc: doc, version: version, errorBody: schemaOf(doc, "ErrorResponse")}
	if c.errorBody == nil {
		return nil, errors.New("openapi: swagger has no ErrorResponse definition")
	}
	for path, item := range doc.Paths.Map() {
		t, err := compileTemplate(path, item)
		if err != nil {
			return nil, err
		}
		c.templates = append(c.templates, t)
	}
	sortTemplates(c.templates)
	return c, nil
}

// Version is the API version the swagger describes, e.g. "1.51".
func (c *Contract) Version() string { return c.version }

// Routes lists every "METHOD /path" of the swagger, paths as written there
// (e.g. "GET /services/{id}").
func (c *Contract) Routes() []string {
	var out []string
	for _, t := range c.templates {
		for method := range t.item.Operations() {
			out = append(out, method+" "+t.path)
		}
	}
	return out
}

// CheckRoute reports whether method and path (an Engine API request path,
// with or without /vN.NN prefix and query) name an operation of the swagger.
// The error is a *RouteError when they do not.
func (c *Contract) CheckRoute(method, path string) error {
	_, err := c.find(method, path)
	return err
}

// ResponseError is a response that does not match the contract.
type ResponseError struct {
	Method, Path string // request method and path (version prefix stripped)
	Route        string // swagger path the request matched, e.g. /services/{id}
	Status       int
	Reason       string
}

func (e *ResponseError) Error() string {
	route := ""
	if e.Route != "" {
		route = " (" + e.Route + ")"
	}
	return fmt.Sprintf("%s %s%s -> %d: %s", e.Method, e.Path, route, e.Status, e.Reason)
}

// CheckResponse validates a response the daemon gave to method and path.
//
// The status must be documented for the route, except that an undocumented
// error status (>= 400) is accepted when its body is Docker's
// {"message": "..."} error shape. A body with a JSON media type is validated
// against the schema of the documented response; a stream of JSON values (as
// /events and stats send) has each value validated on its own. HEAD, 1xx, 204
// and 304 responses carry no body and are only checked for their status.
func (c *Contract) CheckResponse(method, path string, status int, header http.Header, body []byte) error {
	method = strings.ToUpper(method)
	m, err := c.find(method, path)
	if err != nil {
		return err
	}
	fail := func(format string, args ...any) error {
		return &ResponseError{Method: method, Path: StripVersion(path), Route: m.path, Status: status, Reason: fmt.Sprintf(format, args...)}
	}

	documented := m.operation.Responses.Status(status)
	if documented == nil {
		documented = m.operation.Responses.Default()
	}
	if documented == nil && status == http.StatusSwitchingProtocols && hijackRoutes[m.path] {
		return nil
	}
	if documented == nil {
		if status < 400 {
			return fail("status %d is not documented for this route (documented: %s)", status, statusList(m.operation))
		}
		return c.checkErrorBody(header, body, fail)
	}

	if method == http.MethodHead || status < 200 || status == http.StatusNoContent || status == http.StatusNotModified {
		return nil
	}
	media := documented.Value.Content
	if len(media) == 0 {
		return nil // the swagger gives no body for this response
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if jm := media.Get("application/json"); jm != nil && jm.Schema != nil {
			return fail("empty body where the swagger gives a JSON schema")
		}
		return nil
	}
	if header.Get("Content-Type") == "" {
		if media.Get("application/json") != nil {
			return fail("body without Content-Type where the swagger gives application/json")
		}
		return nil
	}
	if !isJSON(header) {
		if media.Get(mediaType(header)) == nil {
			return fail("Content-Type %q is not one the swagger gives (%s)", header.Get("Content-Type"), mediaList(media))
		}
		return nil
	}
	schemaMedia := media.Get("application/json")
	if schemaMedia == nil || schemaMedia.Schema == nil {
		return nil
	}
	values, err := splitJSON(body)
	if err != nil {
		return fail("body is not JSON: %v", err)
	}
	if len(values) == 0 {
		return fail("empty body where the swagger gives a JSON schema")
	}
	if len(values) == 1 && string(values[0]) == "null" {
		return fail("body is null where the swagger gives a schema")
	}

	req, err := http.NewRequest(method, "http://docker"+StripVersion(path), nil)
	if err != nil {
		return fail("bad request path: %v", err)
	}
	input := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: m.params,
		Route: &routers.Route{
			Spec: c.doc, Path: m.path, PathItem: m.item, Method: method, Operation: m.operation,
		},
	}
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	for i, v := range values {
		v = relaxBody(v)
		err := openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: input,
			Status:                 status,
			Header:                 jsonHeader,
			Body:                   io.NopCloser(bytes.NewReader(v)),
			Options:                &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true},
		})
		if err != nil {
			where := ""
			if len(values) > 1 {
				where = fmt.Sprintf("stream value %d: ", i)
			}
			return fail("%s%s", where, describe(err))
		}
	}
	return nil
}

// checkErrorBody validates an undocumented error status against ErrorResponse.
func (c *Contract) checkErrorBody(header http.Header, body []byte, fail func(string, ...any) error) error {
	if !isJSON(header) {
		return fail("error response with Content-Type %q, want application/json {\"message\": ...}", header.Get("Content-Type"))
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fail("error body is not JSON: %v", err)
	}
	if err := c.errorBody.Value.VisitJSON(v, openapi3.MultiErrors(), openapi3.VisitAsResponse()); err != nil {
		return fail("error body does not match ErrorResponse: %v", err)
	}
	return nil
}

// splitJSON returns the JSON values of body in order: one for a plain body,
// several for a stream. Whitespace-only bodies give none.
func splitJSON(body []byte) ([][]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var out [][]byte
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, raw)
	}
}

// jsonMediaTypes are the media types whose bodies are validated as JSON.
var jsonMediaTypes = map[string]bool{
	"application/json":     true,
	"application/x-ndjson": true,
	"application/jsonl":    true,
	"application/json-seq": true,
}

func mediaType(header http.Header) string {
	mt, _, err := mime.ParseMediaType(header.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return mt
}

func isJSON(header http.Header) bool { return jsonMediaTypes[mediaType(header)] }

func statusList(op *openapi3.Operation) string {
	var s []string
	for code := range op.Responses.Map() {
		s = append(s, code)
	}
	return strings.Join(sortedStrings(s), ", ")
}

func mediaList(c openapi3.Content) string {
	var s []string
	for k := range c {
		s = append(s, k)
	}
	return strings.Join(sortedStrings(s), ", ")
}

// describe flattens kin-openapi's error into one readable line per problem.
func describe(err error) string {
	var re *openapi3filter.ResponseError
	if errors.As(err, &re) && re.Err != nil {
		err = re.Err
	}
	var me openapi3.MultiError
	if errors.As(err, &me) {
		var lines []string
		for _, e := range me {
			lines = append(lines, describeOne(e))
		}
		return strings.Join(lines, "; ")
	}
	return describeOne(err)
}

func describeOne(err error) string {
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		ptr := "/" + strings.Join(se.JSONPointer(), "/")
		return fmt.Sprintf("at %s: %s", ptr, se.Reason)
	}
	return err.Error()
}
