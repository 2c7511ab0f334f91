package harness

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The slow-link fallback for kernels without sch_netem: iptables rules in a
// host's namespace send the packets of its eth0 to an NFQUEUE queue, and a
// delayer in the test process gives each packet its verdict (accept after
// the delay, or drop for the loss) over a netfilter netlink socket bound in
// that namespace. Rules use --queue-bypass: with no delayer bound, packets
// pass.

// nfQueueNum is the queue the slow rules use; queues are per namespace.
const nfQueueNum = 4242

// nfnetlink_queue constants (linux/netfilter/nfnetlink_queue.h).
const (
	nfnlSubsysQueue = 3
	nfqnlMsgPacket  = 0
	nfqnlMsgVerdict = 1
	nfqnlMsgConfig  = 2

	nfqaPacketHdr  = 1
	nfqaVerdictHdr = 2

	nfqaCfgCmd         = 1
	nfqaCfgParams      = 2
	nfqaCfgQueueMaxlen = 3
	nfqaCfgMask        = 4
	nfqaCfgFlags       = 5

	nfqnlCfgCmdBind = 1
	nfqnlCopyMeta   = 1

	nfqaCfgFFailOpen = 1
	nfqaCfgFGSO      = 4

	nfDrop   = 0
	nfAccept = 1
)

// delayer holds the packets of one NFQUEUE queue for a fixed delay and
// drops a share of them. It is safe for concurrent use.
type delayer struct {
	f     *os.File // the netlink socket, in the runtime poller
	delay time.Duration
	loss  float64 // 0..1

	mu      sync.Mutex
	pending int // packets given no verdict yet
	err     error

	queue chan held
	done  chan struct{} // closed when both loops have ended
}

// held is a packet waiting for its verdict.
type held struct {
	id  uint32
	due time.Time
}

// newDelayer binds queue nfQueueNum of the network namespace ns and starts
// giving verdicts: each packet is accepted delay after it was queued,
// except lossPercent% of them, dropped at once.
func newDelayer(ns string, delay time.Duration, lossPercent float64) (*delayer, error) {
	var fd int
	err := InNetNS(ns, func() error {
		var err error
		fd, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_NETFILTER)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("harness: nfqueue socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("harness: nfqueue bind: %w", err)
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20)
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_NO_ENOBUFS, 1)
	d := &delayer{
		f:     os.NewFile(uintptr(fd), "nfqueue"),
		delay: delay,
		loss:  lossPercent / 100,
		queue: make(chan held, 8192),
		done:  make(chan struct{}),
	}
	cmd := make([]byte, 4) // nfqnl_msg_config_cmd: command, pad, pf (be16)
	cmd[0] = nfqnlCfgCmdBind
	params := make([]byte, 5) // nfqnl_msg_config_params: copy_range (be32), copy_mode
	params[4] = nfqnlCopyMeta
	flags := be32(nfqaCfgFFailOpen | nfqaCfgFGSO)
	msg := nfqMessage(nfqnlMsgConfig, unix.NLM_F_REQUEST|unix.NLM_F_ACK, 1,
		attr(nfqaCfgCmd, cmd), attr(nfqaCfgParams, params), attr(nfqaCfgQueueMaxlen, be32(8192)),
		attr(nfqaCfgMask, flags), attr(nfqaCfgFlags, flags))
	if err := d.configure(msg); err != nil {
		d.f.Close()
		return nil, err
	}
	var loops sync.WaitGroup
	loops.Add(2)
	go func() { defer loops.Done(); d.receive() }()
	go func() { defer loops.Done(); d.release() }()
	go func() { loops.Wait(); close(d.done) }()
	return d, nil
}

// configure sends a config request and waits for its acknowledgement.
func (d *delayer) configure(msg []byte) error {
	if _, err := d.f.Write(msg); err != nil {
		return fmt.Errorf("harness: nfqueue config: %w", err)
	}
	_ = d.f.SetReadDeadline(time.Now().Add(5 * time.Second))
	defer d.f.SetReadDeadline(time.Time{})
	buf := make([]byte, 1<<16)
	for {
		n, err := d.f.Read(buf)
		if err != nil {
			return fmt.Errorf("harness: nfqueue config: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return fmt.Errorf("harness: nfqueue config: %w", err)
		}
		for _, m := range msgs {
			if m.Header.Type != unix.NLMSG_ERROR || m.Header.Seq != 1 || len(m.Data) < 4 {
				continue
			}
			if errno := int32(binary.NativeEndian.Uint32(m.Data)); errno != 0 {
				return fmt.Errorf("harness: nfqueue bind queue %d: %w", nfQueueNum, syscall.Errno(-errno))
			}
			return nil
		}
	}
}

// receive reads queued packets until the socket is closed: it drops the
// lost ones at once and hands the others to release.
func (d *delayer) receive() {
	defer close(d.queue)
	buf := make([]byte, 1<<16)
	for {
		n, err := d.f.Read(buf)
		if err != nil {
			if !errors.Is(err, os.ErrClosed) {
				d.fail(err)
			}
			return
		}
		now := time.Now()
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			d.fail(err)
			continue
		}
		for _, m := range msgs {
			if m.Header.Type != nfnlSubsysQueue<<8|nfqnlMsgPacket {
				continue
			}
			id, ok := packetID(m.Data)
			if !ok {
				continue
			}
			if d.loss > 0 && rand.Float64() < d.loss {
				d.verdict(id, nfDrop)
				continue
			}
			d.mu.Lock()
			d.pending++
			d.mu.Unlock()
			d.queue <- held{id: id, due: now.Add(d.delay)}
		}
	}
}

// release accepts each held packet when it is due, in arrival order.
func (d *delayer) release() {
	for p := range d.queue {
		if wait := time.Until(p.due); wait > 0 {
			time.Sleep(wait)
		}
		d.verdict(p.id, nfAccept)
		d.mu.Lock()
		d.pending--
		d.mu.Unlock()
	}
}

func (d *delayer) verdict(id uint32, verdict uint32) {
	hdr := make([]byte, 8) // nfqnl_msg_verdict_hdr: verdict, id (both be32)
	binary.BigEndian.PutUint32(hdr[0:], verdict)
	binary.BigEndian.PutUint32(hdr[4:], id)
	if _, err := d.f.Write(nfqMessage(nfqnlMsgVerdict, unix.NLM_F_REQUEST, 0, attr(nfqaVerdictHdr, hdr))); err != nil && !errors.Is(err, os.ErrClosed) {
		d.fail(err)
	}
}

func (d *delayer) fail(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err == nil {
		d.err = fmt.Errorf("harness: nfqueue: %w", err)
	}
}

// drain waits up to timeout until every held packet had its verdict.
func (d *delayer) drain(timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		d.mu.Lock()
		n := d.pending
		d.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// close unbinds the queue (the kernel drops what it still holds) and
// returns the first error the loops met.
func (d *delayer) close() error {
	_ = d.f.Close()
	<-d.done
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// packetID reads the packet id from the attributes of an NFQNL_MSG_PACKET
// (after its 4-byte nfgenmsg).
func packetID(data []byte) (uint32, bool) {
	if len(data) < 4 {
		return 0, false
	}
	b := data[4:]
	for len(b) >= 4 {
		l := int(binary.NativeEndian.Uint16(b[0:]))
		typ := binary.NativeEndian.Uint16(b[2:]) & 0x3fff
		if l < 4 || l > len(b) {
			return 0, false
		}
		if typ == nfqaPacketHdr && l >= 8 {
			return binary.BigEndian.Uint32(b[4:]), true
		}
		b = b[min(len(b), (l+3)&^3):]
	}
	return 0, false
}

// nfqMessage builds a netlink message of the queue subsystem for queue
// nfQueueNum with the given attributes.
func nfqMessage(typ uint16, flags uint16, seq uint32, attrs ...[]byte) []byte {
	body := []byte{unix.AF_UNSPEC, 0, 0, 0} // nfgenmsg: family, version, res_id (be16)
	binary.BigEndian.PutUint16(body[2:], nfQueueNum)
	for _, a := range attrs {
		body = append(body, a...)
	}
	hdr := make([]byte, unix.NLMSG_HDRLEN)
	binary.NativeEndian.PutUint32(hdr[0:], uint32(len(hdr)+len(body)))
	binary.NativeEndian.PutUint16(hdr[4:], nfnlSubsysQueue<<8|typ)
	binary.NativeEndian.PutUint16(hdr[6:], flags)
	binary.NativeEndian.PutUint32(hdr[8:], seq)
	return append(hdr, body...)
}

// attr encodes one netlink attribute, padded to 4 bytes.
func attr(typ uint16, payload []byte) []byte {
	a := make([]byte, 4, 4+len(payload)+3)
	binary.NativeEndian.PutUint16(a[0:], uint16(4+len(payload)))
	binary.NativeEndian.PutUint16(a[2:], typ)
	a = append(a, payload...)
	for len(a)%4 != 0 {
		a = append(a, 0)
	}
	return a
}

func be32(v uint32) []byte {
	b := make([]byte, 4)
	binary.BigEndian.PutUint32(b, v)
	return b
}
