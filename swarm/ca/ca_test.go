package ca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"
)

func TestTokensAndCertificates(t *testing.T) {
	now := time.Now()
	root, err := NewRootCA(now)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewRootCA(now)
	tok := GenerateToken(root)
	p, err := ParseToken(tok)
	if err != nil {
		t.Fatalf("parse %q: %v", tok, err)
	}
	if !p.MatchesRoot(root) || p.MatchesRoot(other) {
		t.Fatal("token does not name its own root only")
	}
	if GenerateToken(root) == tok {
		t.Fatal("two tokens share a secret")
	}
	for _, bad := range []string{"", "SWMTKN-1-abc-def", "XWMTKN-1-" + p.Digest + "-" + p.Secret} {
		if _, err := ParseToken(bad); err == nil {
			t.Errorf("token %q accepted", bad)
		}
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	certPEM, err := root.IssueNodeCert(&key.PublicKey, "node1", OUWorker, "cluster1", now, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: root.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("verify against own root: %v", err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: other.Pool()}); err == nil {
		t.Fatal("verified against another root")
	}
	id, role, cluster, err := NodeIdentity(cert)
	if err != nil || id != "node1" || role != OUWorker || cluster != "cluster1" {
		t.Fatalf("identity %q %q %q %v", id, role, cluster, err)
	}
	if d := cert.NotAfter.Sub(now); d < 89*24*time.Hour || d > 91*24*time.Hour {
		t.Fatalf("expiry %v, want 90 days", d)
	}
	re, err := ParseRootCA(root.CertPEM, root.KeyPEM)
	if err != nil || re.Key == nil || re.Digest() != root.Digest() {
		t.Fatalf("reparse root: %v", err)
	}
}
