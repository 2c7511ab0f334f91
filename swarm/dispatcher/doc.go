// Package dispatcher is the manager side of agent sessions. A node registers with its description
// and is marked ready; it then receives the set of tasks assigned to it each time that set changes,
// sends heartbeats (a node whose heartbeats stop is marked down by the leader), and reports task
// status in batches, written to the store as one Raft entry per batch with states only moving forward.
//
// Task logs (TaskLogs, the control layer's TaskLogSource) travel over the same sessions: a request
// for a task's log becomes a log subscription on the newest session of the task's node, delivered
// to the agent as part of the node's set of open subscriptions; the agent publishes the log back in
// batches (the first says it has started, the last closes the stream) and each batch is handed to
// the reader before the next is taken, so a slow reader slows the node down. A subscription is
// withdrawn when its reader goes away or the log ends; a session that ends takes its subscriptions
// with it ("node X is not available").
//
// Sessions also carry each node's view of the overlay networks its tasks use (NodeNetworks,
// netview.NodeView): sent at session start, then whenever it changes. One store watch serves all
// open sessions: a burst of relevant changes (tasks entering or leaving the endpoint states, services,
// networks, node addresses) is gathered for a short window, the cluster-wide part of the views is
// computed once from one snapshot, and each session is sent its node's view only if it differs from
// the last one sent to it.
package dispatcher
