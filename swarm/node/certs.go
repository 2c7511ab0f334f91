package node

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/shoal-project/shoal/swarm/ca"
	"github.com/shoal-project/shoal/swarm/transport"
)

// Files of a node's identity under <data-root>/swarm/certificates, as dockerd names them.
const (
	certDir  = "certificates"
	rootFile = "swarm-root-ca.crt"
	certFile = "swarm-node.crt"
	keyFile  = "swarm-node.key"
)

// identity is a node's certificate, key and cluster root as kept on disk.
type identity struct {
	certPEM, keyPEM, rootPEM []byte
}

func saveIdentity(dir string, id identity) error {
	d := filepath.Join(dir, certDir)
	if err := os.MkdirAll(d, 0o700); err != nil {
		return err
	}
	for name, b := range map[string][]byte{rootFile: id.rootPEM, certFile: id.certPEM, keyFile: id.keyPEM} {
		if err := os.WriteFile(filepath.Join(d, name), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func loadIdentity(dir string) (identity, error) {
	d := filepath.Join(dir, certDir)
	var id identity
	var err error
	if id.rootPEM, err = os.ReadFile(filepath.Join(d, rootFile)); err != nil {
		return id, err
	}
	if id.certPEM, err = os.ReadFile(filepath.Join(d, certFile)); err != nil {
		return id, err
	}
	id.keyPEM, err = os.ReadFile(filepath.Join(d, keyFile))
	return id, err
}

// credentials makes the channel's reloadable TLS source from an identity.
func (id identity) credentials() (*transport.Credentials, error) {
	root, err := ca.ParseRootCA(id.rootPEM, nil)
	if err != nil {
		return nil, err
	}
	return transport.NewCredentials(id.certPEM, id.keyPEM, root)
}

// notAfter is the expiry of the identity's certificate.
func (id identity) notAfter() (time.Time, error) {
	b, _ := pem.Decode(id.certPEM)
	if b == nil {
		return time.Time{}, errors.New("node: no certificate in PEM")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return time.Time{}, err
	}
	return c.NotAfter, nil
}

func parseKey(keyPEM []byte) (*ecdsa.PrivateKey, error) {
	b, _ := pem.Decode(keyPEM)
	if b == nil {
		return nil, errors.New("node: no key in PEM")
	}
	return x509.ParseECPrivateKey(b.Bytes)
}

func newKey() (*ecdsa.PrivateKey, []byte, error) { return transport.NewNodeKey() }

// certLife is the whole validity of the identity's certificate.
func certLife(id identity) time.Duration {
	b, _ := pem.Decode(id.certPEM)
	if b == nil {
		return 0
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return 0
	}
	return c.NotAfter.Sub(c.NotBefore)
}
