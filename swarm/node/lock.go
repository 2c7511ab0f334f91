package node

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/swarm/control"
	"github.com/shoal-project/shoal/swarm/store"
)

// With autolock, a manager keeps its node key on disk encrypted with the unlock key (AES-256-GCM,
// key = SHA-256 of the unlock key): after a restart it cannot join the cluster channel, and so
// cannot read or write cluster state, until `docker swarm unlock` gives the key. (Docker also
// encrypts the Raft log with a key kept under the same lock; shoal's Raft files are not encrypted.)

const lockedKeyHeader = "SHOAL-LOCKED-KEY-1\n"

// invalidUnlockKey is Docker's answer to a wrong key (401).
type invalidUnlockKey struct{}

func (invalidUnlockKey) Error() string { return "swarm could not be unlocked: invalid key provided" }
func (invalidUnlockKey) Unauthorized() {}

func kek(unlockKey string) []byte {
	sum := sha256.Sum256([]byte("shoal-kek\x00" + unlockKey))
	return sum[:]
}

// lockKey encrypts a PEM key with the unlock key.
func lockKey(keyPEM []byte, unlockKey string) ([]byte, error) {
	block, err := aes.NewCipher(kek(unlockKey))
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	sealed := gcm.Seal(nonce, nonce, keyPEM, nil)
	return []byte(lockedKeyHeader + base64.StdEncoding.EncodeToString(sealed) + "\n"), nil
}

func isLocked(keyFile []byte) bool { return bytes.HasPrefix(keyFile, []byte(lockedKeyHeader)) }

// unlockKey decrypts a key locked with lockKey.
func unlockKey(keyFile []byte, unlockKey string) ([]byte, error) {
	sealed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(strings.TrimPrefix(string(keyFile), lockedKeyHeader)))
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(kek(unlockKey))
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if len(sealed) < gcm.NonceSize() {
		return nil, invalidUnlockKey{}
	}
	plain, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], nil)
	if err != nil {
		return nil, invalidUnlockKey{}
	}
	return plain, nil
}

// saveKey writes the node key, locked when the cluster has an unlock key.
func saveKey(dir string, keyPEM []byte, unlock string) error {
	data := keyPEM
	if unlock != "" {
		var err error
		if data, err = lockKey(keyPEM, unlock); err != nil {
			return err
		}
	}
	return writeFileAtomic(filepath.Join(dir, certDir, keyFile), data)
}

// writeFileAtomic replaces path with data through a temporary file of its own.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

// lockedNode is a manager that restarted with its key locked: it is in a swarm but can do nothing
// until unlocked.
type lockedNode struct{ state state }

var _ control.Node = lockedNode{}

func (l lockedNode) Store() *store.Store                       { return nil }
func (l lockedNode) NodeID() string                            { return l.state.NodeID }
func (l lockedNode) Addr() string                              { return l.state.AdvertiseAddr }
func (l lockedNode) RemoteManagers() []swarm.Peer              { return []swarm.Peer{} }
func (l lockedNode) RaftMembers() (reachable, unreachable int) { return 0, 0 }

// Locked tells control that this node waits for its unlock key.
func (l lockedNode) Locked() bool { return true }

// Unlock implements control.Lifecycle: decrypt the node key with the key the user gives and start
// the membership.
func (m *Manager) Unlock(ctx context.Context, n control.Node, key string) (control.Node, error) {
	ln, ok := n.(lockedNode)
	if !ok {
		return nil, errors.New("node: not a locked membership")
	}
	if !strings.HasPrefix(key, "SWMKEY-1-") {
		return nil, errdefs.InvalidParameter(errors.New("invalid key"))
	}
	id, err := loadIdentity(m.cfg.Dir)
	if err != nil {
		return nil, err
	}
	plain, err := unlockKey(id.keyPEM, key)
	if err != nil {
		return nil, err
	}
	id.keyPEM = plain
	mb, err := m.start(ctx, ln.state, id, startRestore)
	if err != nil {
		return nil, fmt.Errorf("swarm component could not be started: %w", err)
	}
	return mb, nil
}
