// Package events is the node's event log, the source of GET /events: a bounded buffer of recent
// events and live subscriptions that never hold up a publisher. Container events come from the
// runtime; swarm events (services, nodes, secrets, configs) are made from store changes by
// FromStore, as dockerd makes them from swarmkit's watch.
package events
