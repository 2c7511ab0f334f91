package transport

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"sync"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/ca"
)

// TLSSource gives the listener and the clients this node's certificate and the cluster root. Both
// methods are called on every handshake, so what they return may change (renewal); they must be
// safe for concurrent use.
type TLSSource interface {
	// Certificate is this node's certificate (leaf first) with its private key.
	Certificate() (*tls.Certificate, error)
	// Root is the cluster's root CA; its certificate is enough.
	Root() *ca.RootCA
}

// Peer is an authenticated node, as its certificate names it.
type Peer struct {
	NodeID    string
	Role      swarm.NodeRole
	ClusterID string
	// Addr is the address the connection came from (host:port).
	Addr string
}

// Credentials is a TLSSource over a node certificate that can be replaced while in use.
type Credentials struct {
	mu   sync.RWMutex
	cert *tls.Certificate
	root *ca.RootCA
	id   Peer
}

var _ TLSSource = (*Credentials)(nil)

// NewCredentials reads a node certificate and its key (PEM) issued by root.
func NewCredentials(certPEM, keyPEM []byte, root *ca.RootCA) (*Credentials, error) {
	c := &Credentials{root: root}
	if err := c.Update(certPEM, keyPEM); err != nil {
		return nil, err
	}
	return c, nil
}

// Update replaces the certificate (renewal, role change). The new one must be signed by the same
// root and name the same node and cluster.
func (c *Credentials) Update(certPEM, keyPEM []byte) error {
	kp, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("transport: node certificate: %w", err)
	}
	if kp.Leaf == nil {
		if kp.Leaf, err = x509.ParseCertificate(kp.Certificate[0]); err != nil {
			return err
		}
	}
	if err := kp.Leaf.CheckSignatureFrom(c.root.Cert); err != nil {
		return fmt.Errorf("transport: node certificate is not signed by the cluster root: %w", err)
	}
	id, err := identityOf(kp.Leaf)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cert != nil && (id.NodeID != c.id.NodeID || id.ClusterID != c.id.ClusterID) {
		return fmt.Errorf("transport: certificate for node %s of cluster %s cannot replace node %s of cluster %s",
			id.NodeID, id.ClusterID, c.id.NodeID, c.id.ClusterID)
	}
	c.cert, c.id = &kp, id
	return nil
}

// Certificate implements TLSSource.
func (c *Credentials) Certificate() (*tls.Certificate, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.cert, nil
}

// Root implements TLSSource.
func (c *Credentials) Root() *ca.RootCA { return c.root }

// Identity is this node as its current certificate names it (Addr is empty).
func (c *Credentials) Identity() Peer {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.id
}

// NewNodeKey makes a node's private key (ECDSA P-256, as swarm's) and its PEM form.
func NewNodeKey() (*ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

// identityOf reads a node certificate's names.
func identityOf(cert *x509.Certificate) (Peer, error) {
	nodeID, ou, clusterID, err := ca.NodeIdentity(cert)
	if err != nil {
		return Peer{}, err
	}
	var role swarm.NodeRole
	switch ou {
	case ca.OUManager:
		role = swarm.NodeRoleManager
	case ca.OUWorker:
		role = swarm.NodeRoleWorker
	default:
		return Peer{}, fmt.Errorf("transport: certificate of %s has unknown role %q", nodeID, ou)
	}
	return Peer{NodeID: nodeID, Role: role, ClusterID: clusterID}, nil
}

// localIdentity is the identity of the certificate src holds now.
func localIdentity(src TLSSource) (Peer, *tls.Certificate, error) {
	cert, err := src.Certificate()
	if err != nil {
		return Peer{}, nil, err
	}
	if cert == nil || len(cert.Certificate) == 0 {
		return Peer{}, nil, fmt.Errorf("transport: no node certificate")
	}
	leaf := cert.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return Peer{}, nil, err
		}
	}
	id, err := identityOf(leaf)
	return id, cert, err
}
