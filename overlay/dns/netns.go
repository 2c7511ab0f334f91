package dns

import "github.com/shoal-project/shoal/overlay/kernel"

// inNetNS runs fn on a locked OS thread inside the network namespace at nsPath (kernel.Do):
// sockets fn makes stay in that namespace and may be used from any goroutine.
func inNetNS(nsPath string, fn func() error) error { return kernel.Do(nsPath, fn) }
