// Package testimages holds the small programs the integration tests run as
// containers, one main package per directory, each built statically
// (CGO_ENABLED=0):
//
//   - whoami: HTTP server on :80 (or $PORT) answering its hostname, its
//     addresses and the request line; /health answers 503 while the file
//     $UNHEALTHY_FILE (default /tmp/unhealthy) exists.
//   - sleeper: sleeps until SIGTERM or SIGINT, then exits 0.
//   - exitcode: exits with the code given as first argument (or $EXIT_CODE)
//     after an optional delay (second argument or $DELAY, a Go duration).
//   - healthy: HTTP server like whoami whose `-check` flag is a healthcheck
//     program: it exits 0 while /health answers 200, 1 otherwise.
//
// Package build (testimages/build) turns them, and Debian's busybox-static,
// into OCI/Docker images for a registry or `docker load`.
package testimages
