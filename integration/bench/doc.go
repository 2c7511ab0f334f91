// Package bench holds the runtime benchmarks of `make bench-runtime`: the time from
// `docker service create --replicas N` to N running tasks, and the cost of one container start,
// against shoald and, where a dockerd binary is installed, against Docker on the same machine.
// They print tables; they assert nothing about speed.
package bench
