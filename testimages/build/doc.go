// Package build makes the container images the integration tests use, with
// no Dockerfile and no Docker daemon: layers are tar archives built in
// memory, images are assembled with go-containerregistry, and the result is
// pushed to a registry (Push) or written as a `docker load` archive
// (WriteArchive).
//
// Every standard image (Standard) has a base layer made of Debian's
// busybox-static (/bin/busybox and its applet symlinks: sh, cat, sleep,
// echo, hostname, nslookup, wget, nc, ps, ls, ...) plus /etc/passwd,
// /etc/group and /tmp, and, except for busybox itself, one layer holding a
// statically compiled program from testimages/. Layer contents and creation
// times are fixed, so the same sources give the same digests.
package build
