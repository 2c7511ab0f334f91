// Package openapi checks shoal's Engine API against Docker's own contract:
// the Swagger 2.0 document shipped with the pinned github.com/docker/docker
// module (api/swagger.yaml), read from the Go module cache at run time.
//
// A Contract answers two questions: does a route exist in the Engine API
// (CheckRoute), and does a response body match the schema the swagger gives
// for that route and status (CheckResponse). A Recorder sits between a client
// and the daemon (as an http.RoundTripper, or as a unix-socket proxy the stock
// CLI can be pointed at) and records every violation it sees, so integration
// tests fail on any response Docker's clients could not rely on.
//
// The swagger is looser and sometimes stricter than what dockerd really sends;
// the relaxations applied on top of it are listed in relax.go, each with the
// reason. Everything else is checked as written.
package openapi
