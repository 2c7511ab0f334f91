package container

import (
	seccompprofiles "github.com/moby/profiles/seccomp"
	"github.com/opencontainers/runc/libcontainer/seccomp"
	"github.com/opencontainers/runtime-spec/specs-go"
)

// SeccompEnabled reports whether this binary can apply seccomp filters: it was built with cgo
// and the "seccomp" build tag (libseccomp-dev). Without it containers run unconfined.
const SeccompEnabled = seccomp.Enabled

// seccompProfile returns the container's seccomp filter: Docker's default profile adjusted to
// the capabilities in spec (as dockerd does), a custom JSON profile, or nil for "unconfined"
// and for binaries built without seccomp support.
func seccompProfile(profile string, spec *specs.Spec) (*specs.LinuxSeccomp, error) {
	if profile == "unconfined" || !SeccompEnabled {
		return nil, nil
	}
	if profile == "" {
		return seccompprofiles.GetDefaultProfile(spec)
	}
	sc, err := seccompprofiles.LoadProfile(profile, spec)
	if err != nil {
		return nil, invalidf("invalid seccomp profile: %v", err)
	}
	return sc, nil
}
