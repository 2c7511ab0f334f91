// Package ca is the cluster's certificate authority: the root CA made at swarm init, the node
// certificates it signs (CN node ID, OU swarm-manager or swarm-worker, O cluster ID), and the join
// tokens in Docker's format, SWMTKN-1-<digest of the root CA>-<secret>, which bind a joining node to
// this cluster's root and to a role.
package ca
