package node

import (
	"errors"
	"testing"

	"github.com/docker/docker/errdefs"
)

func TestLockedKeyRoundTrip(t *testing.T) {
	key := []byte("-----BEGIN EC PRIVATE KEY-----\nabc\n-----END EC PRIVATE KEY-----\n")
	locked, err := lockKey(key, "SWMKEY-1-right")
	if err != nil {
		t.Fatal(err)
	}
	if !isLocked(locked) || isLocked(key) {
		t.Fatal("isLocked does not tell a locked key from a clear one")
	}
	plain, err := unlockKey(locked, "SWMKEY-1-right")
	if err != nil || string(plain) != string(key) {
		t.Fatalf("unlock with the right key: %q %v", plain, err)
	}
	_, err = unlockKey(locked, "SWMKEY-1-wrong")
	var bad invalidUnlockKey
	if !errors.As(err, &bad) || !errdefs.IsUnauthorized(err) || err.Error() != "swarm could not be unlocked: invalid key provided" {
		t.Fatalf("unlock with a wrong key: %v", err)
	}
}
