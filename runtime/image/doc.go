// Package image is the node's image store: Docker-compatible reference normalising, pulls from
// registries over the registry v2 / OCI distribution protocol (go-containerregistry), `docker load` of
// docker-archive and OCI-layout tars, a content-addressed layer store whose unpacked layers are
// shared between containers as overlayfs lowerdirs, and the image metadata (tags, digests, configs)
// kept on disk and reloaded on restart.
//
// Store implements routes.ImageBackend and gives the container runtime Resolve and EnsureImage.
// Its methods are safe for concurrent use; errors are classified with github.com/docker/docker/errdefs
// and carry Docker's texts.
//
// On-disk layout under <data-root>/image:
//
//	repositories.json                     tags and digests, as dockerd keeps them:
//	                                      {"Repositories":{"busybox":{"busybox:latest":"sha256:…"}}}
//	imagedb/content/sha256/<hex>          raw image config; its sha256 is the image ID
//	imagedb/metadata/sha256/<hex>.json    {"Size":…,"LastTagTime":…}
//	layers/sha256/<diffID hex>/diff/      one unpacked layer, OCI whiteouts converted to overlayfs form
//	                                      (.wh.x → char device 0:0, .wh..wh..opq → trusted.overlay.opaque=y)
//	layers/sha256/<diffID hex>/blob       the layer blob as pulled or loaded (gzip, zstd or plain tar),
//	                                      read back by `docker save` and `docker push`
//	layers/sha256/<diffID hex>/layer.json {"DiffID":…,"Size":…,"Blob":…,"TarSize":…}; written last, marks
//	                                      the layer complete
//	tmp/                                  downloads, unpacks and loads in progress; emptied at start
//
// A layer is unpacked once, keyed by its diffID (the digest of its uncompressed tar), whatever image
// or registry it came from; every image that has it uses the same directory.
package image
