// Package harness runs the real pieces integration tests need: a shoald
// daemon on a private unix socket and data root (StartDaemon), a Docker
// registry on loopback (StartRegistry, Debian's docker-registry) loaded with
// the standard test images (PushImages), the stock docker CLI and the Docker
// Go SDK pointed at the daemon (Daemon.Docker, Daemon.Client), and a polling
// helper with a deadline (Eventually).
//
// By default every request the CLI or the SDK makes goes through an
// openapi.Recorder proxy, and a test fails if any response broke the Engine
// API contract (Options.SkipContract turns this off).
//
// Everything started is stopped at test cleanup, also when the test fails:
// the daemon is stopped (its log tail is printed on failure), every process
// it ever had as a descendant (container processes included) is killed, and
// mounts under its directories are lazily unmounted before they are removed.
//
// Requirements: root, /usr/local/bin/docker, Debian packages docker-registry
// and busybox-static (`make deps`), and the shoald binary ($SHOALD_BIN, or
// built once per test binary from ./cmd/shoald with -tags seccomp).
package harness
