// Package integration holds shoal's end-to-end tests: real shoald daemons
// (integration/harness), a real registry with the images of testimages/, the
// stock docker CLI, the Docker Go SDK and docker-py, with every response
// checked against the Engine API contract (openapi).
package integration
