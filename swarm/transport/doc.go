// Package transport is the cluster channel of a swarm: one TLS listener (--listen-addr, default
// 0.0.0.0:2377) that carries Raft traffic between managers, agent sessions, certificate enrolment
// and renewal, and Engine API requests a follower forwards to the leader.
//
// # Multiplexing
//
// Every connection is TLS 1.3 and names exactly one ALPN protocol; the listener picks the TLS
// settings for that protocol in GetConfigForClient (so a renewed certificate is used by the next
// handshake without a restart) and hands the connection on by protocol:
//
//	shoal-join  no client certificate. Only CA.Join is served. The client does not trust the
//	            server's chain by itself: it checks that the root the server sends (the last
//	            certificate of its chain) has the sha256 digest named in the join token.
//	shoal-rpc   client certificate of this cluster required (worker or manager): CA.Renew,
//	            Dispatcher.* (agent sessions); Raft.AddManager for managers only.
//	shoal-raft  manager certificate required: hashicorp/raft's network transport, byte for byte.
//	shoal-api   manager certificate required: HTTP/1.1 of the Engine API, forwarded from a follower
//	            to the leader (streaming and 101 upgrades pass through).
//
// A peer certificate must chain to the cluster root, be within its validity period, carry
// O = this cluster's ID and, where said, OU = swarm-manager. The node ID of a caller is the CN of
// its certificate, never a field of a request. Servers present their certificate followed by the
// root; clients with a certificate verify the server against the root with the name swarm-manager
// and check its O and OU.
//
// # RPC
//
// shoal-join and shoal-rpc connections speak JSON-RPC 1.0 as net/rpc/jsonrpc does: each request is
// {"method":"Service.Method","params":[arg],"id":n}, each answer {"id":n,"result":...,"error":...},
// several calls may be in flight on one connection. Errors travel as text in gRPC's form,
// "rpc error: code = <Code> desc = <text>", which is what Docker shows for swarm errors; the client
// turns them back into *StatusError. Argument and reply types are the exported *Request and *Reply
// types of this package (wire.go).
//
// An agent session lives on one shoal-rpc connection: Dispatcher.Open registers the node, then
// Dispatcher.Assignments is a long poll (up to 15s) that answers as soon as the node's task set is
// newer than the version the client holds; Dispatcher.UpdateStatus and Dispatcher.Heartbeat run
// beside it. Dispatcher.LogSubscriptions is a second long poll, for the node's whole set of open
// log subscriptions (requests for its tasks' logs), and Dispatcher.PublishLogs sends one batch of
// a subscription's log, answered once the manager's reader has taken it (flow control); a batch
// for a subscription that is over is answered NotFound. Dispatcher.Networks is a third long poll,
// for the node's view of its overlay networks (netview.NodeView), when the manager's session
// computes one. Closing the connection ends the session.
// A manager that is not the leader answers Open, Join and Renew with the leader's address (the
// client redials there) and the calls of an open session with code Unavailable (the client ends the
// session; the agent opens a new one).
//
// Raft's server addresses are the managers' channel addresses, so the leader's Raft address is where
// clients are sent.
package transport
