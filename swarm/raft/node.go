package raft

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/shoal-project/shoal/swarm/store"
)

// ErrNoLeader is Docker's text for a write that no leader can take.
var ErrNoLeader = errors.New("The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.")

// ErrNotLeader: this manager is not the leader; the caller forwards the request.
var ErrNotLeader = errors.New("raft: this manager is not the leader")

// Config says where a Raft node keeps its state and how it talks.
type Config struct {
	// Dir holds raft.db (log and stable store) and snapshots/.
	Dir string
	// ID is the server ID (the swarm node ID).
	ID string
	// Addr is the address other managers reach this one at.
	Addr string
	// Transport carries Raft messages; nil makes an in-memory transport (a lone manager).
	Transport hraft.Transport
	// Bootstrap makes a new cluster of this node alone if there is no state yet.
	Bootstrap bool
	Logger    *slog.Logger
	// Tuning; zero means the defaults.
	HeartbeatTimeout, ElectionTimeout time.Duration
	SnapshotThreshold                 uint64
}

// Node is one manager's Raft member.
type Node struct {
	id          string
	mu          sync.Mutex
	unreachable map[string]bool
	done        chan struct{}

	r     *hraft.Raft
	logs  *raftboltdb.BoltStore
	snaps *snapshotStore
	trans hraft.Transport
	st    *store.Store
	log   *slog.Logger
}

// Open starts the Raft member over st, restoring st from the latest snapshot and the log.
func Open(cfg Config, st *store.Store) (*Node, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, err
	}
	logs, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(cfg.Dir, "raft.db")})
	if err != nil {
		return nil, fmt.Errorf("raft: open log: %w", err)
	}
	snaps, err := newSnapshotStore(cfg.Dir, DefaultRetainSnapshots, hclogFor(cfg.Logger))
	if err != nil {
		logs.Close()
		return nil, fmt.Errorf("raft: open snapshots: %w", err)
	}
	trans := cfg.Transport
	if trans == nil {
		_, trans = hraft.NewInmemTransport(hraft.ServerAddress(cfg.Addr))
	}
	rc := hraft.DefaultConfig()
	rc.LocalID = hraft.ServerID(cfg.ID)
	rc.Logger = hclogFor(cfg.Logger)
	rc.BatchApplyCh = true
	if cfg.HeartbeatTimeout > 0 {
		rc.HeartbeatTimeout = cfg.HeartbeatTimeout
		rc.LeaderLeaseTimeout = cfg.HeartbeatTimeout / 2
	}
	if cfg.ElectionTimeout > 0 {
		rc.ElectionTimeout = cfg.ElectionTimeout
	}
	// Docker's defaults until the swarm spec says otherwise (see Tune), checked every few
	// seconds rather than hashicorp's two minutes, as swarmkit checks after every apply.
	rc.SnapshotThreshold, rc.TrailingLogs, rc.SnapshotInterval = 10000, 500, 5*time.Second
	if cfg.SnapshotThreshold > 0 {
		rc.SnapshotThreshold = cfg.SnapshotThreshold
	}
	if cfg.Bootstrap {
		has, err := hraft.HasExistingState(logs, logs, snaps)
		if err != nil {
			logs.Close()
			return nil, err
		}
		if !has {
			conf := hraft.Configuration{Servers: []hraft.Server{{ID: rc.LocalID, Address: trans.LocalAddr()}}}
			if err := hraft.BootstrapCluster(rc, logs, logs, snaps, trans, conf); err != nil {
				logs.Close()
				return nil, fmt.Errorf("raft: bootstrap: %w", err)
			}
		}
	}
	r, err := hraft.NewRaft(rc, &fsm{st: st}, logs, logs, snaps, trans)
	if err != nil {
		logs.Close()
		return nil, fmt.Errorf("raft: start: %w", err)
	}
	n := &Node{id: cfg.ID, r: r, logs: logs, snaps: snaps, trans: trans, st: st, log: cfg.Logger, unreachable: map[string]bool{}, done: make(chan struct{})}
	n.observe()
	return n, nil
}

// Propose implements store.Proposer: it appends p to the log and waits until it is applied here.
func (n *Node) Propose(ctx context.Context, p *store.Proposal) error {
	b, err := p.Encode()
	if err != nil {
		return err
	}
	timeout := 20 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	f := n.r.Apply(append([]byte{entryProposal}, b...), timeout)
	if err := futureError(ctx, f); err != nil {
		switch {
		case errors.Is(err, hraft.ErrNotLeader), errors.Is(err, hraft.ErrLeadershipLost), errors.Is(err, hraft.ErrLeadershipTransferInProgress):
			if n.Leader() == "" {
				return ErrNoLeader
			}
			return ErrNotLeader
		case errors.Is(err, hraft.ErrEnqueueTimeout):
			return ErrNoLeader
		}
		return err
	}
	if resp, ok := f.Response().(error); ok && resp != nil {
		return resp
	}
	return nil
}

// futureError waits for f, or for ctx to end: a caller that gave up is not held until the entry
// commits or leadership is lost (the entry may still commit; the caller was told nothing).
func futureError(ctx context.Context, f hraft.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WaitLeader waits until this node leads and has applied every entry before its term (a barrier), so
// that the store is current; or until ctx ends.
func (n *Node) WaitLeader(ctx context.Context) error {
	for {
		if n.r.State() == hraft.Leader {
			return n.r.Barrier(time.Until(deadline(ctx))).Error()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func deadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(30 * time.Second)
}

// WaitReady waits until a leader is known and this member's store is current: on the leader, a
// barrier; on a follower, until it has applied what it holds and ready(), which the caller uses to
// check the store it expects (e.g. that the cluster object arrived), says yes.
func (n *Node) WaitReady(ctx context.Context, ready func() bool) error {
	for {
		if n.IsLeader() {
			if err := n.r.Barrier(time.Until(deadline(ctx))).Error(); err == nil && ready() {
				return nil
			}
		} else if n.Leader() != "" && n.r.AppliedIndex() >= n.r.LastIndex() && ready() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Unreachable lists the voters the leader has failed to reach lately (leader only).
func (n *Node) Unreachable() map[string]bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make(map[string]bool, len(n.unreachable))
	for k, v := range n.unreachable {
		out[k] = v
	}
	return out
}

// observe keeps Unreachable current from Raft's heartbeat observations.
func (n *Node) observe() {
	ch := make(chan hraft.Observation, 64)
	obs := hraft.NewObserver(ch, false, func(o *hraft.Observation) bool {
		switch o.Data.(type) {
		case hraft.FailedHeartbeatObservation, hraft.ResumedHeartbeatObservation, hraft.PeerObservation:
			return true
		}
		return false
	})
	n.r.RegisterObserver(obs)
	go func() {
		defer n.r.DeregisterObserver(obs)
		for {
			select {
			case o := <-ch:
				n.mu.Lock()
				switch d := o.Data.(type) {
				case hraft.FailedHeartbeatObservation:
					n.unreachable[string(d.PeerID)] = true
				case hraft.ResumedHeartbeatObservation:
					delete(n.unreachable, string(d.PeerID))
				case hraft.PeerObservation:
					if d.Removed {
						delete(n.unreachable, string(d.Peer.ID))
					}
				}
				n.mu.Unlock()
			case <-n.done:
				return
			}
		}
	}()
}

// ID is this member's server ID (the swarm node ID).
func (n *Node) ID() string { return n.id }

// RemoveServer takes a member out of the Raft configuration (leader only).
func (n *Node) RemoveServer(id string, timeout time.Duration) error {
	return n.r.RemoveServer(hraft.ServerID(id), 0, timeout).Error()
}

// TransferLeadership hands leadership to another member (leader only).
func (n *Node) TransferLeadership() error { return n.r.LeadershipTransfer().Error() }

// IsLeader tells whether this node leads now.
func (n *Node) IsLeader() bool { return n.r.State() == hraft.Leader }

// LeaderCh reports leadership changes of this node (true: became leader).
func (n *Node) LeaderCh() <-chan bool { return n.r.LeaderCh() }

// Leader is the current leader's server ID, or "" when there is none known.
func (n *Node) Leader() string {
	_, id := n.r.LeaderWithID()
	return string(id)
}

// LeaderAddr is the current leader's address, or "".
func (n *Node) LeaderAddr() string {
	addr, _ := n.r.LeaderWithID()
	return string(addr)
}

// Servers lists the Raft configuration's members.
func (n *Node) Servers() ([]hraft.Server, error) {
	f := n.r.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, err
	}
	return f.Configuration().Servers, nil
}

// Raft exposes the underlying member for membership changes.
func (n *Node) Raft() *hraft.Raft { return n.r }

// Tuning is what the swarm spec's Raft section changes at run time.
type Tuning struct {
	// SnapshotThreshold is the number of entries applied since the last snapshot that makes
	// the next one (Docker's SnapshotInterval).
	SnapshotThreshold uint64
	// TrailingLogs is the number of entries kept behind a snapshot for followers that lag;
	// one further behind gets the snapshot (Docker's LogEntriesForSlowFollowers).
	TrailingLogs uint64
	// RetainSnapshots is how many snapshots are kept on disk, the newest and older ones
	// (1 + Docker's KeepOldSnapshots); it takes effect when the next snapshot is written.
	RetainSnapshots int
}

// Tune applies t; zero fields keep their value.
func (n *Node) Tune(t Tuning) error {
	n.snaps.setRetain(t.RetainSnapshots)
	rc := n.r.ReloadableConfig()
	if t.SnapshotThreshold > 0 {
		rc.SnapshotThreshold = t.SnapshotThreshold
	}
	if t.TrailingLogs > 0 {
		rc.TrailingLogs = t.TrailingLogs
	}
	return n.r.ReloadConfig(rc)
}

// Tuning returns the settings in force.
func (n *Node) Tuning() Tuning {
	rc := n.r.ReloadableConfig()
	return Tuning{SnapshotThreshold: rc.SnapshotThreshold, TrailingLogs: rc.TrailingLogs, RetainSnapshots: int(n.snaps.retain.Load())}
}

// Snapshot forces a snapshot now (tests, before compaction).
func (n *Node) Snapshot() error { return n.r.Snapshot().Error() }

// Shutdown stops the member and closes its files.
func (n *Node) Shutdown() error {
	close(n.done)
	err := n.r.Shutdown().Error()
	if c, ok := n.trans.(io.Closer); ok {
		c.Close()
	}
	if cerr := n.logs.Close(); err == nil {
		err = cerr
	}
	return err
}

func hclogFor(l *slog.Logger) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "raft", Level: hclog.Info, Output: slogWriter{l}, DisableTime: true})
}

// slogWriter sends hclog's lines to slog at their own level ("[INFO]  raft: ...").
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(b []byte) (int, error) {
	line := string(trimNL(b))
	level := slog.LevelWarn
	for prefix, l := range hclogLevels {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			line, level = strings.TrimLeft(rest, " "), l
			break
		}
	}
	w.l.Log(context.Background(), level, line, "component", "raft")
	return len(b), nil
}

var hclogLevels = map[string]slog.Level{
	"[TRACE]": slog.LevelDebug, "[DEBUG]": slog.LevelDebug, "[INFO]": slog.LevelInfo,
	"[WARN]": slog.LevelWarn, "[ERROR]": slog.LevelError,
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// RecoverAlone rewrites the Raft state in dir so that this member (id at addr) is the only voter,
// keeping every entry it holds: `docker swarm init --force-new-cluster` after a lost quorum. The
// member must not be running.
func RecoverAlone(dir, id, addr string, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	logs, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, "raft.db")})
	if err != nil {
		return fmt.Errorf("raft: open log: %w", err)
	}
	defer logs.Close()
	snaps, err := hraft.NewFileSnapshotStoreWithLogger(dir, 2, hclogFor(log))
	if err != nil {
		return err
	}
	_, trans := hraft.NewInmemTransport(hraft.ServerAddress(addr))
	rc := hraft.DefaultConfig()
	rc.LocalID = hraft.ServerID(id)
	rc.Logger = hclogFor(log)
	conf := hraft.Configuration{Servers: []hraft.Server{{ID: rc.LocalID, Address: hraft.ServerAddress(addr)}}}
	return hraft.RecoverCluster(rc, &fsm{st: store.New(nil)}, logs, logs, snaps, trans, conf)
}
