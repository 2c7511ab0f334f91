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
// Multi-host tests use NewCluster: N test hosts on this machine, each a
// network namespace (shc-<name>-host<i>) with one address, 198.18.0.<i>/24,
// on a veth whose peer is a port of a bridge living in a namespace of its
// own (shc-<name>-br). No namespace has any other route, and the test's own
// namespace gets no interface: traffic stays between the cluster's
// namespaces. Each host runs one shoald (own data root, exec root, API
// socket, and hostname host<i> in its own UTS namespace; mount and PID
// namespaces stay shared). With ClusterOptions.Registry a registry host at
// 198.18.0.254:5000 serves images to the hosts (their daemons get
// --insecure-registry for it); the test process pushes to it from inside
// its namespace. Faults: Host.Kill/Start/Restart (the daemon),
// Freeze/Thaw (SIGSTOP/SIGCONT), Cut/Heal and Cluster.Partition/HealAll
// (nftables drops on the bridge), Slow/Unslow (tc netem on both veth ends,
// or NFQUEUE with a delayer in the test process when the kernel lacks
// sch_netem). Host.Dial, Host.Listen and Host.Command reach into a host's
// namespace. A cluster's name prefixes all it makes; at start, what a
// crashed run of the same name left (namespaces, processes in them, its
// directory and mounts) is removed, and a lock under /run/shoal-harness
// keeps two live clusters from sharing a name.
//
// Requirements: root, /usr/local/bin/docker, Debian packages docker-registry
// and busybox-static (`make deps`); for clusters iproute2 (ip, tc),
// nftables, iptables and util-linux (nsenter); and the shoald binary
// ($SHOALD_BIN, or built once per test binary from ./cmd/shoald with -tags
// seccomp).
package harness
