package ca

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Join token errors, in Docker's words.
var (
	ErrInvalidToken = errors.New("invalid join token")
	// ErrWrongCluster: the token names another cluster's root CA.
	ErrWrongCluster = errors.New("remote CA does not match fingerprint")
)

// GenerateToken makes a join token for the root: SWMTKN-1-<50-char base36 digest>-<25-char base36 secret>.
func GenerateToken(r *RootCA) string {
	d := r.Digest()
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		panic(err)
	}
	return fmt.Sprintf("SWMTKN-1-%s-%s", base36(d[:], 50), base36(secret, 25))
}

// ParsedToken is a join token split into its parts.
type ParsedToken struct {
	Version string
	Digest  string // base36 of the root CA's sha256
	Secret  string
}

// ParseToken splits a token, checking its form.
func ParseToken(token string) (ParsedToken, error) {
	parts := strings.Split(token, "-")
	if len(parts) != 4 || parts[0] != "SWMTKN" || parts[1] != "1" || len(parts[2]) != 50 || len(parts[3]) != 25 {
		return ParsedToken{}, ErrInvalidToken
	}
	return ParsedToken{Version: parts[1], Digest: parts[2], Secret: parts[3]}, nil
}

// MatchesRoot tells whether the token names this root CA.
func (p ParsedToken) MatchesRoot(r *RootCA) bool {
	d := r.Digest()
	return subtle.ConstantTimeCompare([]byte(base36(d[:], 50)), []byte(p.Digest)) == 1
}

// SameSecret compares two tokens in constant time.
func SameSecret(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func base36(b []byte, width int) string {
	s := new(big.Int).SetBytes(b).Text(36)
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}
