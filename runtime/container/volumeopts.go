package container

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/docker/docker/errdefs"
	units "github.com/docker/go-units"
)

// The options of Docker's local volume driver (volume-opt=type=...,device=...,o=...): a volume
// created with them is a mount of that file system on its _data directory, made while a
// container uses the volume. This file holds their checks and their parsing, as moby's
// volume/local does it.

// volumeOpts are a volume's options as given at its creation, stored in <volume>/opts.json with
// moby's field names.
type volumeOpts struct {
	MountType   string
	MountOpts   string
	MountDevice string
	Quota       struct{ Size uint64 }
}

// needsMount reports whether the volume is a mount rather than a plain directory.
func (o *volumeOpts) needsMount() bool {
	return o != nil && (o.MountDevice != "" || o.MountType != "")
}

// requiredVolumeOpts lists, for each option, the options that must come with it; in a fixed
// order so that the error for several missing options is always the same one.
var requiredVolumeOpts = []struct {
	opt  string
	with []string
}{
	{"device", []string{"type"}},
	{"type", []string{"device"}},
	{"o", []string{"device", "type"}},
}

// parseVolumeOpts checks a new volume's driver options with moby's texts and returns them;
// nil for no options.
func parseVolumeOpts(opts map[string]string) (*volumeOpts, error) {
	if len(opts) == 0 {
		return nil, nil
	}
	for k := range opts {
		switch k {
		case "type", "o", "device", "size":
		default:
			return nil, errdefs.InvalidParameter(fmt.Errorf("invalid option: %q", k))
		}
	}
	if opts["type"] == "cifs" && opts["device"] != "" {
		u, err := url.Parse(opts["device"])
		if err != nil {
			return nil, errdefs.InvalidParameter(fmt.Errorf("error parsing mount device url: %w", err))
		}
		if u.Port() != "" {
			return nil, errdefs.InvalidParameter(errors.New("port not allowed in CIFS device URL, include 'port' in 'o='"))
		}
	}
	o := &volumeOpts{MountType: opts["type"], MountOpts: opts["o"], MountDevice: opts["device"]}
	if v, ok := opts["size"]; ok {
		size, err := units.RAMInBytes(v)
		if err != nil {
			return nil, errdefs.InvalidParameter(err)
		}
		if size > 0 {
			// moby sets project quotas on xfs; shoal has no quota support.
			return nil, errdefs.InvalidParameter(errors.New("quota size requested but no quota support"))
		}
	}
	for _, r := range requiredVolumeOpts {
		if _, ok := opts[r.opt]; !ok {
			continue
		}
		for _, w := range r.with {
			if _, ok := opts[w]; !ok {
				return nil, errdefs.InvalidParameter(fmt.Errorf("missing required option: %q", w))
			}
		}
	}
	return o, nil
}

// resolveFunc resolves a host name as net.ResolveIPAddr does.
type resolveFunc func(network, addr string) (*net.IPAddr, error)

// mountSource returns the device and the option string to mount a volume with: for nfs and cifs
// a host name in addr= (or in a cifs device URL) is resolved to its address, since the kernel
// takes only addresses.
func mountSource(o *volumeOpts, resolve resolveFunc) (device, options string, _ error) {
	if o.MountDevice == "" {
		return "", "", errors.New("missing device in volume options")
	}
	device, options = o.MountDevice, o.MountOpts
	switch o.MountType {
	case "nfs", "cifs":
		if addr := optionValue(o.MountOpts, "addr"); addr != "" && net.ParseIP(addr).To4() == nil {
			ip, err := resolve("ip", addr)
			if err != nil {
				return "", "", fmt.Errorf("error resolving passed in network volume address: %w", err)
			}
			options = strings.Replace(options, "addr="+addr, "addr="+ip.String(), 1)
			break
		}
		if o.MountType != "cifs" {
			break
		}
		u, err := url.Parse(device)
		if err != nil {
			return "", "", fmt.Errorf("error parsing mount device url: %w", err)
		}
		if u.Host != "" && net.ParseIP(u.Host) == nil {
			ip, err := resolve("ip", u.Host)
			if err != nil {
				return "", "", fmt.Errorf("error resolving passed in network volume address: %w", err)
			}
			u.Host = ip.String()
			dev, err := url.QueryUnescape(u.String())
			if err != nil {
				return "", "", fmt.Errorf("failed to unescape device URL: %q", u)
			}
			device = dev
		}
	}
	return device, options, nil
}

// optionValue returns the value of key=value in a comma-separated option string.
func optionValue(options, key string) string {
	for _, o := range strings.Split(options, ",") {
		if v, ok := strings.CutPrefix(o, key+"="); ok {
			return v
		}
	}
	return ""
}
