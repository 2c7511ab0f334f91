// Package routes serves the Docker Engine REST API over HTTP: API version prefixes and checks, the
// response headers every Docker client expects, request decoding with Docker's rules, one error mapper
// from errdefs classes to status codes, and one handler file per resource. It knows nothing of Raft,
// containers or networks: it talks to the backends declared in backend.go.
//
// New builds the handler from a Config. The layers, outermost first: request logging (log.go), the
// Server/Api-Version/Ostype/Docker-Experimental headers and the "/v1.NN" prefix (version.go), the chi
// router with its 404 {"message":"page not found"}, then on matched routes only the version check and
// the handler. Handlers return errors; errors.go turns them into {"message": err.Error()} with the
// status of their errdefs class, so backends classify their errors and routes never pick a status.
//
// Conventions every handler keeps: lists are [] and never null; query flags read as dockerd reads them
// (decode.go); filters are parsed in both the map and the legacy list form and their keys validated per
// resource (filters.go); streams check everything before their first byte (stream.go); exec start
// takes over the connection (hijack.go). A nil backend makes its routes answer 501.
package routes
