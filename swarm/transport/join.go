package transport

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/ca"
)

// Join enrols this node with the swarm whose manager listens at remoteAddr, using a join token.
// The manager is trusted only if the root it presents has the digest the token names (else the
// error wraps ca.ErrWrongCluster: "remote CA does not match fingerprint. Expected: <hex>"); a token
// the manager does not accept fails with ErrInvalidJoinToken's text. A follower sends the call to
// the leader. advertiseAddr is the channel address a joining manager wants to be reached at (may
// be empty); pub is the public key the certificate is for. The enrolment returned is checked: its
// root matches the token and its certificate is for pub, signed by that root, naming the node.
func Join(ctx context.Context, remoteAddr, token, advertiseAddr string, pub crypto.PublicKey) (*Enrollment, error) {
	tok, err := ca.ParseToken(token)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	req := JoinRequest{Token: token, AdvertiseAddr: advertiseAddr, PublicKey: der}
	var enr *Enrollment
	tried := map[string]bool{}
	for addr := remoteAddr; enr == nil; {
		if tried[addr] {
			return nil, errNoLeader
		}
		tried[addr] = true
		var reply JoinReply
		if err := joinCall(ctx, addr, tok, req, &reply); err != nil {
			return nil, err
		}
		if reply.NodeID != "" {
			e := reply.Enrollment
			enr = &e
		} else if addr = reply.Leader; addr == "" {
			return nil, errNoLeader
		}
	}
	root, err := ca.ParseRootCA(enr.RootPEM, nil)
	if err != nil {
		return nil, err
	}
	if !tok.MatchesRoot(root) {
		return nil, fingerprintError(tok)
	}
	cert, err := checkIssued(enr.CertPEM, root.Cert, pub)
	if err != nil {
		return nil, err
	}
	id, err := identityOf(cert)
	if err != nil {
		return nil, err
	}
	if id.NodeID != enr.NodeID || id.Role != enr.Role || id.ClusterID != enr.ClusterID {
		return nil, fmt.Errorf("transport: issued certificate names %s (%s) of %s, not %s (%s) of %s",
			id.NodeID, id.Role, id.ClusterID, enr.NodeID, enr.Role, enr.ClusterID)
	}
	return enr, nil
}

// joinCall runs CA.Join on a shoal-join connection whose server proved the token's root.
func joinCall(ctx context.Context, addr string, tok ca.ParsedToken, req JoinRequest, reply *JoinReply) error {
	var verifyErr error
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS13,
		NextProtos: []string{ProtoJoin},
		// No certificate of this cluster is known yet: the chain is checked against the token
		// below instead of a root pool.
		InsecureSkipVerify: true,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			verifyErr = verifyByToken(raw, tok)
			return verifyErr
		},
	}
	tc, err := dialTLS(ctx, addr, cfg)
	if err != nil {
		if verifyErr != nil {
			return verifyErr
		}
		return err
	}
	rc := newRPCClient(tc)
	defer rc.Close()
	return call(ctx, rc, "CA.Join", req, reply)
}

// verifyByToken checks a manager's chain: its last certificate is a root with the token's digest,
// and the first is a manager certificate that root signed.
func verifyByToken(raw [][]byte, tok ca.ParsedToken) error {
	certs := make([]*x509.Certificate, 0, len(raw))
	for _, r := range raw {
		c, err := x509.ParseCertificate(r)
		if err != nil {
			return err
		}
		certs = append(certs, c)
	}
	if len(certs) < 2 || !tok.MatchesRoot(&ca.RootCA{Cert: certs[len(certs)-1]}) {
		return fingerprintError(tok)
	}
	root := &ca.RootCA{Cert: certs[len(certs)-1]}
	inter := x509.NewCertPool()
	for _, c := range certs[1 : len(certs)-1] {
		inter.AddCert(c)
	}
	if _, err := certs[0].Verify(x509.VerifyOptions{Roots: root.Pool(), Intermediates: inter, DNSName: ca.OUManager,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return err
	}
	id, err := identityOf(certs[0])
	if err != nil {
		return err
	}
	if id.Role != swarm.NodeRoleManager {
		return errors.New("transport: the remote node is not a manager")
	}
	return nil
}

// fingerprintError is Docker's text for a token of another cluster, with the expected digest in hex.
func fingerprintError(tok ca.ParsedToken) error {
	d, _ := new(big.Int).SetString(tok.Digest, 36)
	if d == nil {
		d = new(big.Int)
	}
	return fmt.Errorf("%w. Expected: %064x", ca.ErrWrongCluster, d)
}
