package ca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Roles as they appear in a node certificate's OU.
const (
	OUManager = "swarm-manager"
	OUWorker  = "swarm-worker"
)

// RootCA is the cluster root: its certificate and, on managers, its key.
type RootCA struct {
	Cert    *x509.Certificate
	CertPEM []byte
	Key     *ecdsa.PrivateKey // nil where only the certificate is known
	KeyPEM  []byte
}

// NewRootCA makes a new self-signed root valid for 20 years from now, as swarm's is.
func NewRootCA(now time.Time) (*RootCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "swarm-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(20 * 365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return ParseRootCA(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
}

// ParseRootCA reads a root from PEM; keyPEM may be nil.
func ParseRootCA(certPEM, keyPEM []byte) (*RootCA, error) {
	b, _ := pem.Decode(certPEM)
	if b == nil {
		return nil, errors.New("ca: no certificate in PEM")
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, err
	}
	r := &RootCA{Cert: cert, CertPEM: certPEM, KeyPEM: keyPEM}
	if len(keyPEM) > 0 {
		kb, _ := pem.Decode(keyPEM)
		if kb == nil {
			return nil, errors.New("ca: no key in PEM")
		}
		if r.Key, err = x509.ParseECPrivateKey(kb.Bytes); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Digest is the sha256 of the root certificate, the part of a join token that names the cluster.
func (r *RootCA) Digest() [32]byte { return sha256.Sum256(r.Cert.Raw) }

// IssuerSubject and IssuerPublicKey are the DER forms Docker shows as TLSInfo.CertIssuer*.
func (r *RootCA) IssuerSubject() []byte   { return r.Cert.RawSubject }
func (r *RootCA) IssuerPublicKey() []byte { return r.Cert.RawSubjectPublicKeyInfo }

// Pool is a cert pool holding the root.
func (r *RootCA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(r.Cert)
	return p
}

// IssueNodeCert signs a certificate for a node's public key.
func (r *RootCA) IssueNodeCert(pub any, nodeID, role, clusterID string, now time.Time, expiry time.Duration) ([]byte, error) {
	if r.Key == nil {
		return nil, errors.New("ca: this node holds no root key")
	}
	if expiry <= 0 {
		expiry = 90 * 24 * time.Hour
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: nodeID, OrganizationalUnit: []string{role}, Organization: []string{clusterID}},
		DNSNames:     []string{role, nodeID, "swarm-ca"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(expiry),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, r.Cert, pub, r.Key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// NodeIdentity reads node ID, role and cluster ID from a node certificate.
func NodeIdentity(cert *x509.Certificate) (nodeID, role, clusterID string, err error) {
	if len(cert.Subject.OrganizationalUnit) != 1 || len(cert.Subject.Organization) != 1 {
		return "", "", "", fmt.Errorf("ca: certificate %q is not a node certificate", cert.Subject.CommonName)
	}
	return cert.Subject.CommonName, cert.Subject.OrganizationalUnit[0], cert.Subject.Organization[0], nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err)
	}
	return n
}
