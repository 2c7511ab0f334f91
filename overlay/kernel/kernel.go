package kernel

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Kernel makes and removes the overlay data plane's kernel objects. Its zero value is not
// usable: call New.
type Kernel struct {
	dir string

	mu         sync.Mutex
	hostNS     netns.NsHandle  // the netns of the thread that called New
	host       *netlink.Handle // netlink sockets in hostNS
	dirMounted bool            // dir was bind-mounted onto itself by this Kernel
	closed     bool
}

// New returns a Kernel whose host netns is the netns of the calling thread and whose netns files
// live under dir (created 0700 if missing).
func New(dir string) (*Kernel, error) {
	if dir == "" {
		return nil, errors.New("kernel: empty netns directory")
	}
	dir = filepath.Clean(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("kernel: make netns directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("kernel: chmod netns directory: %w", err)
	}
	runtime.LockOSThread()
	hostNS, err := netns.Get()
	runtime.UnlockOSThread()
	if err != nil {
		return nil, fmt.Errorf("kernel: open the caller's netns: %w", err)
	}
	h, err := netlink.NewHandleAt(hostNS)
	if err != nil {
		hostNS.Close()
		return nil, fmt.Errorf("kernel: netlink socket in the caller's netns: %w", err)
	}
	return &Kernel{dir: dir, hostNS: hostNS, host: h}, nil
}

// Close releases the Kernel's handle on the host netns and its netlink sockets. It removes
// nothing from the kernel (see Cleanup). The Kernel is unusable afterwards.
func (k *Kernel) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return nil
	}
	k.closed = true
	k.host.Close()
	return k.hostNS.Close()
}

func (k *Kernel) lock() error {
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		return errors.New("kernel: closed")
	}
	return nil
}

// Cleanup removes everything this Kernel makes: every netns file under dir (after deleting the
// interfaces inside, so veth peers in other namespaces go at once), every vx-* VXLAN device and
// ve-* veth in the host netns, and the bind mount of dir itself when New's Kernel made it.
func (k *Kernel) Cleanup() error {
	if err := k.lock(); err != nil {
		return err
	}
	defer k.mu.Unlock()
	var errs []error
	entries, err := os.ReadDir(k.dir)
	if err != nil && !os.IsNotExist(err) {
		errs = append(errs, fmt.Errorf("kernel: cleanup: read %s: %w", k.dir, err))
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		path := filepath.Join(k.dir, e.Name())
		if isNetNS(path) {
			if err := deleteLinksIn(path); err != nil {
				errs = append(errs, fmt.Errorf("kernel: cleanup: %w", err))
			}
		}
		if err := removeNetNS(path); err != nil {
			errs = append(errs, fmt.Errorf("kernel: cleanup: %w", err))
		}
	}
	links, err := k.host.LinkList()
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		errs = append(errs, fmt.Errorf("kernel: cleanup: list links: %w", err))
	}
	for _, l := range links {
		name := l.Attrs().Name
		_, isVxlan := l.(*netlink.Vxlan)
		_, isVeth := l.(*netlink.Veth)
		if (isVxlan && strings.HasPrefix(name, vxlanPrefix)) || (isVeth && strings.HasPrefix(name, vethPrefix)) {
			if err := k.host.LinkDel(l); err != nil && !isNotFound(err) {
				errs = append(errs, fmt.Errorf("kernel: cleanup: delete %s: %w", name, err))
			}
		}
	}
	if k.dirMounted {
		if err := unmountDir(k.dir); err != nil {
			errs = append(errs, fmt.Errorf("kernel: cleanup: %w", err))
		} else {
			k.dirMounted = false
		}
	}
	return errors.Join(errs...)
}

const (
	networkNSPrefix = "ov-"
	vxlanPrefix     = "vx-"
	vethPrefix      = "ve-"
	bridgeInNetNS   = "br0"

	// OverlayMTU is the MTU of VXLAN devices and of the veths attached to overlay networks
	// (1500 less the 50 bytes of VXLAN encapsulation), as Docker's overlay driver.
	OverlayMTU = 1450
	// DefaultPort is the VXLAN UDP port used when NetworkConfig.Port is 0.
	DefaultPort = 4789
)

// NetworkNS returns the path of the netns of network id (whether or not it exists).
func (k *Kernel) NetworkNS(id string) string {
	return filepath.Join(k.dir, networkNSName(id))
}

func networkNSName(id string) string {
	if len(id) > 12 {
		id = id[:12]
	}
	return networkNSPrefix + id
}

func vxlanName(vni uint32) string { return fmt.Sprintf("%s%d", vxlanPrefix, vni) }

// vethName is the name of the bridge-side end of a veth pair: "ve-" and 10 hex digits of a hash
// of what the pair connects (13 characters, within IFNAMSIZ).
func vethName(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return vethPrefix + hex.EncodeToString(sum[:])[:10]
}

func isNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf) || errors.Is(err, unix.ENODEV) || errors.Is(err, os.ErrNotExist)
}
