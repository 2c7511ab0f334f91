// Package container runs a node's containers on runc's libcontainer, inside shoald itself:
// no containerd and no shim process per container.
//
// A container is a child of shoald while shoald runs. When shoald dies its containers keep
// running (they are reparented by the kernel) and a new Runtime on the same ExecRoot adopts them:
// libcontainer's state lives under <exec-root>/runtime/<id> and is re-read with libcontainer.Load.
//
// # The re-exec hook
//
// libcontainer starts a container by re-executing the current binary as "<argv0> init", and the
// optional container init (Spec.Init) is the same binary bind-mounted at /sbin/docker-init. Both
// entries are served by [InitIfChild], which the program's main must call first thing:
//
//	func main() {
//		container.InitIfChild() // never returns in a container init process
//		...
//	}
//
// Importing this package also imports libcontainer/nsenter, whose C constructor runs before the
// Go runtime in the init process, so the binary must be built with cgo. The container init binary
// runs inside the container's root filesystem, where no host C library is present: for Spec.Init
// build shoald statically (-ldflags '-extldflags -static', tags netgo osusergo), or point
// Options.InitPath at a static tini-compatible binary.
//
// # Seccomp
//
// Docker's default seccomp profile (github.com/moby/profiles/seccomp) is applied when the binary
// is built with the "seccomp" build tag and cgo (Debian package libseccomp-dev). Without the tag
// libcontainer cannot load any filter; containers then run without seccomp and New logs a warning
// once. [SeccompEnabled] tells which build this is.
//
// # Files
//
//	<exec-root>/runtime/<id>/           libcontainer state (state.json)
//	<exec-root>/containers/<id>/        stdout and stderr FIFOs, the init's exit-code file
//	<data-root>/containers/<id>/        config.json (spec and state), <id>-json.log (and
//	                                    <id>-json.log.1 ... when rotated), hostname, hosts,
//	                                    resolv.conf, rootfs/ (overlay mount), diff/, work/
//	<data-root>/volumes/<name>/_data    named local volumes
//	<data-root>/volumes/<name>/opts.json  the local driver's options of a volume, if any
//	<data-root>/volumes/<name>/volume.json  the labels and options the volume was created with
//
// # Volumes in use
//
// As in dockerd, a container uses the volumes it mounts from its Create to its Delete, running or
// not: RemoveVolume refuses them ("remove <name>: volume is in use - [<ids>]"). A new Runtime
// learns the users again from the containers it adopts. Anonymous volumes (a volume mount without
// a source, CreateVolume without a name) carry the label com.docker.volume.anonymous.
//
// # Volumes with options
//
// A volume created with the local driver's options (VolumeOptions.DriverConfig.Options: type,
// device, o, as docker volume create -o) is a mount(2) of that file system on its _data, as in
// Docker: o's words that name mount flags (ro, bind, nosuid...) are flags, the rest is the file
// system's data (size=10m for tmpfs, addr=... for nfs, whose host name is resolved to an
// address). The options are checked and stored when the volume is created and ignored after.
// The volume is mounted when the first container using it starts (and at Create, only for the
// copy of the image's content into an empty volume) and unmounted when the last one stops or is
// deleted. A new Runtime counts the adopted running containers as users and unmounts the
// volumes nobody uses.
//
// # Logs
//
// The container's stdout and stderr are FIFOs, not anonymous pipes. shoald holds the read ends and
// writes Docker's json-file format; the container holds its end opened read-write, so the pipe has
// a reader even while shoald is down and the container never gets SIGPIPE. A new shoald re-opens
// the FIFOs by path and goes on reading. Limits: while shoald is down the container's output
// collects in the pipe buffer (1 MiB, the kernel's pipe-max-size); when it is full the container
// blocks on write until shoald is back (Docker with live-restore behaves the same way). Lines
// read after a restart carry the time they were read. A TTY container (Spec.TTY) logs through
// its pseudo-terminal, whose master end lives in shoald: it cannot survive a restart.
//
// Spec.LogConfig picks the log driver as Docker's HostConfig.LogConfig does. json-file (the
// default) takes dockerd's max-size (decimal units: "1k" is 1000 bytes) and max-file options:
// before a write finds the current file at max-size or more, the files rotate (<id>-json.log
// becomes <id>-json.log.1, .1 becomes .2, ...), keeping max-file files in all. compress is
// checked but ignored: rotated files stay plain. Logs reads across the files, oldest first, and a
// follower goes on across rotations. The driver "none" keeps nothing (the FIFOs are still
// drained) and Logs refuses it. Any other driver, or an unknown option, fails Create.
//
// # Exit codes of adopted containers
//
// Only the parent of a process can read its exit status. For a container adopted from an earlier
// shoald the status is read (a) from the exit-code file that the container init writes when
// Spec.Init is set, else (b) 137 when this Runtime sent SIGKILL, else (c) 255, as containerd
// reports an unknown exit status.
package container
