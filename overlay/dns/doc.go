// Package dns is the embedded DNS server of a task container on an overlay network, Docker's
// 127.0.0.11 (moby libnetwork/resolver.go). One Server per container listens on 127.0.0.11:53,
// UDP and TCP, inside the container's network namespace, and answers from a Resolver: the
// swarm's names as that container sees them (a Table built from a netview.NodeView, holding
// only the networks the container is attached to). What is not the swarm's is forwarded to the
// host's upstream servers from the caller's (the node's) network namespace.
//
// Answers follow Docker: A records with TTL 600, shuffled when there are several; AAAA for a
// swarm name is NOERROR with no answers (no IPv6 on overlay networks); PTR for a task address
// gives its container name qualified by the network name; responses carry "recursion
// available" and are not authoritative; SERVFAIL when no upstream answers.
package dns
