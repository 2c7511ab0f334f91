package store

import (
	"context"
	"crypto/rand"
	"math/big"
	"sync"
	"time"

	memdb "github.com/hashicorp/go-memdb"
)

// Proposer replicates proposals. Propose returns nil once p has committed and Apply has run on this
// manager with no error, or the error Apply returned, or an error of replication (lost leadership, no
// quorum, ctx done). It is called with the store's write lock held, one proposal at a time.
type Proposer interface {
	Propose(ctx context.Context, p *Proposal) error
}

// Store is the cluster state. All methods are safe for concurrent use.
type Store struct {
	db       *memdb.MemDB
	proposer Proposer
	now      func() time.Time

	writeMu sync.Mutex // one writer composes and proposes at a time
	applyMu sync.Mutex // serialises Apply and Restore
	index   uint64     // the index of the last applied proposal (guarded by applyMu)
	watch   watchers
}

// New makes an empty store. A nil proposer applies writes locally with a counter as the index.
func New(proposer Proposer) *Store {
	db, err := memdb.NewMemDB(schema())
	if err != nil {
		panic("store: schema: " + err.Error())
	}
	return &Store{db: db, proposer: proposer, now: time.Now}
}

// SetProposer sets the proposer of later writes (Raft is made after the store it applies to).
func (s *Store) SetProposer(p Proposer) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.proposer = p
}

// SetClock replaces the clock that stamps proposals (tests).
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// Index is the index of the last applied write.
func (s *Store) Index() uint64 {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	return s.index
}

// View runs fn against a consistent read-only snapshot.
func (s *Store) View(fn func(tx ReadTx)) {
	txn := s.db.Txn(false)
	defer txn.Abort()
	fn(readTx{txn: txn})
}

// Update runs fn as one atomic write. If fn returns an error nothing is written.
func (s *Store) Update(ctx context.Context, fn func(tx Tx) error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	now := s.now()
	changes, err := s.compose(now, fn)
	if err != nil {
		return err
	}
	return s.propose(ctx, &Proposal{Time: now, Changes: changes})
}

// compose runs fn on a scratch transaction and returns what fn changed. The scratch transaction is
// thrown away: only Apply commits.
func (s *Store) compose(now time.Time, fn func(tx Tx) error) ([]Change, error) {
	txn := s.db.Txn(true)
	defer txn.Abort()
	tx := &writeTx{readTx: readTx{txn: txn}, now: now}
	if err := fn(tx); err != nil {
		return nil, err
	}
	return tx.changes, nil
}

func (s *Store) propose(ctx context.Context, p *Proposal) error {
	if len(p.Changes) == 0 {
		return nil
	}
	if s.proposer == nil {
		// Go through the log form, as Raft would, so the store never shares the caller's objects.
		b, err := p.Encode()
		if err != nil {
			return err
		}
		if p, err = DecodeProposal(b); err != nil {
			return err
		}
		s.applyMu.Lock()
		next := s.index + 1
		s.applyMu.Unlock()
		return s.Apply(next, p)
	}
	return s.proposer.Propose(ctx, p)
}

// maxBatchChanges bounds one Raft entry written by a Batch.
const maxBatchChanges = 200

// Batch is a series of small writes that the store packs into few proposals. Each Update of a batch
// is atomic on its own; a failed one writes nothing and does not stop the others.
type Batch struct {
	s       *Store
	ctx     context.Context
	now     time.Time
	scratch *writeTx // holds the pending changes of the batch; nil between proposals
	err     error
}

// Batch runs fn, which calls b.Update any number of times, and writes what they change in proposals
// of at most maxBatchChanges changes. It returns the first error of replication, or fn's error.
func (s *Store) Batch(ctx context.Context, fn func(b *Batch) error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	b := &Batch{s: s, ctx: ctx, now: s.now()}
	err := fn(b)
	if ferr := b.flush(); b.err == nil {
		b.err = ferr
	}
	if b.err != nil {
		return b.err
	}
	return err
}

// Update runs fn as one atomic part of the batch. The error is fn's own or, when the batch had to
// write what came before and that failed, the error of that write.
func (b *Batch) Update(fn func(tx Tx) error) error {
	if b.err != nil {
		return b.err
	}
	if b.scratch == nil {
		b.scratch = &writeTx{readTx: readTx{txn: b.s.db.Txn(true)}, now: b.now}
	}
	before := append([]Change(nil), b.scratch.changes...)
	if err := fn(b.scratch); err != nil {
		// undo fn's part: a new scratch transaction with what came before it
		b.scratch.txn.Abort()
		b.scratch = &writeTx{readTx: readTx{txn: b.s.db.Txn(true)}, now: b.now}
		for _, c := range before {
			if rerr := b.scratch.replay(c); rerr != nil {
				b.err = rerr
				return rerr
			}
		}
		return err
	}
	if len(b.scratch.changes) >= maxBatchChanges {
		return b.flush()
	}
	return nil
}

// flush proposes the pending changes. The scratch transaction is thrown away first: only Apply
// commits, and it needs the store's writer.
func (b *Batch) flush() error {
	if b.scratch == nil {
		return nil
	}
	changes := b.scratch.changes
	b.scratch.txn.Abort()
	b.scratch = nil
	if len(changes) == 0 {
		return nil
	}
	p := &Proposal{Time: b.now, Changes: changes}
	if err := b.s.propose(b.ctx, p); err != nil {
		b.err = err
		return err
	}
	b.now = b.s.now()
	return nil
}

// Apply writes a committed proposal at log index index. The store keeps the proposal's objects: the
// caller must not touch them afterwards (Raft decodes a fresh proposal for each apply). It is deterministic: it reads no clock and
// does no I/O, so every manager ends in the same state. A proposal that fails a check (version, name,
// existence) changes nothing, and every manager fails it the same way.
func (s *Store) Apply(index uint64, p *Proposal) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	txn := s.db.Txn(true)
	events := make([]Event, 0, len(p.Changes))
	for i := range p.Changes {
		ev, err := applyChange(txn, index, &p.Changes[i])
		if err != nil {
			txn.Abort()
			if index > s.index {
				s.index = index
			}
			return err
		}
		events = append(events, ev)
	}
	txn.Commit()
	if index > s.index {
		s.index = index
	}
	s.watch.publish(events)
	return nil
}

func applyChange(txn *memdb.Txn, index uint64, c *Change) (Event, error) {
	table := string(c.Kind)
	raw, err := txn.First(table, indexID, c.ID)
	if err != nil {
		return Event{}, err
	}
	var old Object
	if raw != nil {
		old = raw.(Object)
	}
	switch c.Action {
	case Create:
		if old != nil {
			return Event{}, ErrExist
		}
	case Update, Delete:
		if old == nil {
			return Event{}, ErrNotExist
		}
		if c.Expect != 0 && old.GetMeta().Version.Index != c.Expect {
			return Event{}, ErrSequenceConflict
		}
	}
	if c.Action == Delete {
		if err := txn.Delete(table, old); err != nil {
			return Event{}, err
		}
		return Event{Action: Delete, Object: old, Old: old}, nil
	}
	obj := c.Object()
	if obj == nil || obj.GetID() != c.ID {
		return Event{}, ErrNotExist
	}
	if name := obj.UniqueName(); name != "" {
		other, err := txn.First(table, indexName, name)
		if err != nil {
			return Event{}, err
		}
		if other != nil && other.(Object).GetID() != c.ID {
			return Event{}, ErrNameConflict
		}
	}
	obj.GetMeta().Version.Index = index
	if err := replace(txn, table, old, obj); err != nil {
		return Event{}, err
	}
	return Event{Action: c.Action, Object: obj, Old: old}, nil
}

// replace writes obj over old (nil for a new object). memdb's Insert keeps a stale index entry when
// an indexed value of the new object is missing (AllowMissing), so an update deletes first.
func replace(txn *memdb.Txn, table string, old, obj Object) error {
	if old != nil {
		if err := txn.Delete(table, old); err != nil {
			return err
		}
	}
	return txn.Insert(table, obj)
}

const idAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

// NewID returns a random 25-character lower-case base-36 ID, as swarm IDs are.
func NewID() string {
	max := new(big.Int).Exp(big.NewInt(36), big.NewInt(25), nil)
	n, err := rand.Int(rand.Reader, max)
	if err != nil {
		panic("store: random: " + err.Error())
	}
	b := make([]byte, 25)
	for i := 24; i >= 0; i-- {
		m := new(big.Int)
		n.DivMod(n, big.NewInt(36), m)
		b[i] = idAlphabet[m.Int64()]
	}
	return string(b)
}
