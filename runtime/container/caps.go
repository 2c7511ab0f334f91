package container

import (
	"slices"
	"strings"
	"sync"

	"github.com/moby/sys/capability"
)

// defaultCapabilities is Docker's default capability set.
var defaultCapabilities = []string{
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_FSETID",
	"CAP_FOWNER",
	"CAP_MKNOD",
	"CAP_NET_RAW",
	"CAP_SETGID",
	"CAP_SETUID",
	"CAP_SETFCAP",
	"CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT",
	"CAP_KILL",
	"CAP_AUDIT_WRITE",
}

// allCapabilities lists the capabilities known to both this program and the running kernel.
var allCapabilities = sync.OnceValue(func() []string {
	last, err := capability.LastCap()
	var out []string
	for _, c := range capability.ListKnown() {
		if err == nil && c > last {
			continue
		}
		out = append(out, "CAP_"+strings.ToUpper(c.String()))
	}
	return out
})

// normalizeCapabilities upper-cases the names and adds the CAP_ prefix; "ALL" stays.
func normalizeCapabilities(caps, known []string) ([]string, error) {
	var out []string
	for _, c := range caps {
		c = strings.ToUpper(c)
		if c == "ALL" {
			out = append(out, c)
			continue
		}
		if !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		if !slices.Contains(known, c) {
			return nil, invalidf("unknown capability: %q", c)
		}
		out = append(out, c)
	}
	return out, nil
}

// tweakCapabilities applies CapAdd and CapDrop to Docker's default set, as Docker does:
// add ALL gives every known capability but the dropped ones; drop ALL keeps only the added ones.
func tweakCapabilities(adds, drops, known []string) ([]string, error) {
	drop, err := normalizeCapabilities(drops, known)
	if err != nil {
		return nil, err
	}
	add, err := normalizeCapabilities(adds, known)
	if err != nil {
		return nil, err
	}
	var out []string
	switch {
	case slices.Contains(add, "ALL"):
		for _, c := range known {
			if !slices.Contains(drop, c) {
				out = append(out, c)
			}
		}
	case slices.Contains(drop, "ALL"):
		out = append(out, add...)
	default:
		for _, c := range defaultCapabilities {
			if !slices.Contains(drop, c) {
				out = append(out, c)
			}
		}
		for _, c := range add {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}
