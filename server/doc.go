// Package server is shoald's composition root: it reads the daemon configuration, opens the API
// listeners (unix sockets and TCP with optional TLS), builds the image store, the container runtime,
// the swarm membership and the API backends, and shuts them down in order. Nothing imports server.
package server
