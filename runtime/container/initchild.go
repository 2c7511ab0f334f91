package container

import (
	"os"
	"path/filepath"

	// Registers the cgroup device controller, which applies the device rules.
	_ "github.com/opencontainers/cgroups/devices"
	"github.com/opencontainers/runc/libcontainer"
	// nsenter's C constructor joins the namespaces in "<argv0> init" before Go starts.
	_ "github.com/opencontainers/runc/libcontainer/nsenter"
)

// initExitFDEnv names the descriptor where the container init writes the exit code.
const initExitFDEnv = "_SHOAL_INIT_EXIT_FD"

// initReadyLine is the first line the init writes to that descriptor, once it handles signals;
// the exit code follows on the next line.
const initReadyLine = "ready\n"

// InitIfChild must be the first call in main (and in TestMain of tests that run containers).
// When this process is a container's bootstrap ("<argv0> init", started by libcontainer) or a
// container's minimal init (/sbin/docker-init, PID 1 in the container), it does that job and
// never returns. Otherwise it returns at once.
func InitIfChild() {
	if len(os.Args) > 1 && os.Args[1] == "init" && os.Getenv("_LIBCONTAINER_INITPIPE") != "" {
		libcontainer.Init() // does not return
	}
	if os.Getpid() == 1 && filepath.Base(os.Args[0]) == filepath.Base(initPathInContainer) {
		os.Exit(runMinimalInit(os.Args[1:]))
	}
}
