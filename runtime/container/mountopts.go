package container

import (
	"errors"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// mount(2) with an fstab-like option string, as github.com/moby/sys/mount does it for Docker's
// local volumes: the words that name mount flags become flags, the rest is the file system's data.

// mountFlags are the option words that are mount flags; clear means the word turns the flag off.
var mountFlags = map[string]struct {
	clear bool
	flag  uintptr
}{
	"ro":            {false, unix.MS_RDONLY},
	"rw":            {true, unix.MS_RDONLY},
	"suid":          {true, unix.MS_NOSUID},
	"nosuid":        {false, unix.MS_NOSUID},
	"dev":           {true, unix.MS_NODEV},
	"nodev":         {false, unix.MS_NODEV},
	"exec":          {true, unix.MS_NOEXEC},
	"noexec":        {false, unix.MS_NOEXEC},
	"sync":          {false, unix.MS_SYNCHRONOUS},
	"async":         {true, unix.MS_SYNCHRONOUS},
	"dirsync":       {false, unix.MS_DIRSYNC},
	"remount":       {false, unix.MS_REMOUNT},
	"mand":          {false, unix.MS_MANDLOCK},
	"nomand":        {true, unix.MS_MANDLOCK},
	"atime":         {true, unix.MS_NOATIME},
	"noatime":       {false, unix.MS_NOATIME},
	"diratime":      {true, unix.MS_NODIRATIME},
	"nodiratime":    {false, unix.MS_NODIRATIME},
	"bind":          {false, unix.MS_BIND},
	"rbind":         {false, unix.MS_BIND | unix.MS_REC},
	"unbindable":    {false, unix.MS_UNBINDABLE},
	"runbindable":   {false, unix.MS_UNBINDABLE | unix.MS_REC},
	"private":       {false, unix.MS_PRIVATE},
	"rprivate":      {false, unix.MS_PRIVATE | unix.MS_REC},
	"shared":        {false, unix.MS_SHARED},
	"rshared":       {false, unix.MS_SHARED | unix.MS_REC},
	"slave":         {false, unix.MS_SLAVE},
	"rslave":        {false, unix.MS_SLAVE | unix.MS_REC},
	"relatime":      {false, unix.MS_RELATIME},
	"norelatime":    {true, unix.MS_RELATIME},
	"strictatime":   {false, unix.MS_STRICTATIME},
	"nostrictatime": {true, unix.MS_STRICTATIME},
}

const (
	propagationTypes = unix.MS_SHARED | unix.MS_PRIVATE | unix.MS_SLAVE | unix.MS_UNBINDABLE
	propagationFlags = propagationTypes | unix.MS_REC | unix.MS_SILENT
	bindReadOnly     = unix.MS_BIND | unix.MS_RDONLY
)

// parseMountOptions splits an option string into mount flags and file system data. Words that
// are not flags (size=10m, addr=1.2.3.4, even "defaults") go to the data, in their order.
func parseMountOptions(options string) (flags uintptr, data string) {
	var rest []string
	for _, o := range strings.Split(options, ",") {
		if f, ok := mountFlags[o]; ok {
			if f.clear {
				flags &^= f.flag
			} else {
				flags |= f.flag
			}
			continue
		}
		rest = append(rest, o)
	}
	return flags, strings.Join(rest, ",")
}

// mountError reads like moby/sys/mount's errors ("mount tmpfs:/path, flags: 0x..., data: ...: ...").
type mountError struct {
	op, source, target string
	flags              uintptr
	data               string
	err                error
}

func (e *mountError) Error() string {
	out := e.op + " "
	if e.source != "" {
		out += e.source + ":" + e.target
	} else {
		out += e.target
	}
	if e.flags != 0 {
		out += ", flags: 0x" + strconv.FormatUint(uint64(e.flags), 16)
	}
	if e.data != "" {
		out += ", data: " + e.data
	}
	return out + ": " + e.err.Error()
}

func (e *mountError) Unwrap() error { return e.err }

// mountWithOptions mounts device on target as fstype with an option string. As moby does, the
// propagation flags take a second call and a read-only bind a remount; a device of "" or "none"
// with no data and no remount flag asks only for those.
func mountWithOptions(device, target, fstype, options string) error {
	flags, data := parseMountOptions(options)
	plain := flags &^ propagationTypes
	remount := flags&unix.MS_REMOUNT != 0 || device == "" || device == "none"
	if !remount || data != "" {
		if err := unix.Mount(device, target, fstype, plain, data); err != nil {
			return &mountError{op: "mount", source: device, target: target, flags: plain, data: data, err: err}
		}
	}
	if flags&propagationTypes != 0 {
		if err := unix.Mount("", target, "", flags&propagationFlags, ""); err != nil {
			return &mountError{op: "remount", target: target, flags: flags & propagationFlags, err: err}
		}
	}
	if plain&bindReadOnly == bindReadOnly {
		if err := unix.Mount("", target, "", plain|unix.MS_REMOUNT, ""); err != nil {
			return &mountError{op: "remount-ro", target: target, flags: plain | unix.MS_REMOUNT, err: err}
		}
	}
	return nil
}

// detachMount lazily unmounts target; "not mounted" is no error.
func detachMount(target string) error {
	err := unix.Unmount(target, unix.MNT_DETACH)
	if err == nil || errors.Is(err, unix.EINVAL) {
		return nil
	}
	return &mountError{op: "umount", target: target, flags: unix.MNT_DETACH, err: err}
}
