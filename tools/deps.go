//go:build tools

// Package deps pins the libraries the project builds on so that go mod tidy keeps them.
package deps

import (
	_ "github.com/docker/docker/api/types/swarm"
	_ "github.com/docker/docker/client"
	_ "github.com/getkin/kin-openapi/openapi3"
	_ "github.com/go-chi/chi/v5"
	_ "github.com/google/go-containerregistry/pkg/v1/remote"
	_ "github.com/google/nftables"
	_ "github.com/hashicorp/go-memdb"
	_ "github.com/hashicorp/raft"
	_ "github.com/hashicorp/raft-boltdb/v2"
	_ "github.com/miekg/dns"
	_ "github.com/moby/profiles/seccomp"
	_ "github.com/opencontainers/runc/libcontainer"
	_ "github.com/vishvananda/netlink"
	_ "go.etcd.io/bbolt"
)
