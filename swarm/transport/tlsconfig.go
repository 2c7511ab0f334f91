package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/ca"
)

// ALPN protocols of the cluster channel; a connection names exactly one.
const (
	ProtoJoin = "shoal-join" // enrolment; no client certificate
	ProtoRPC  = "shoal-rpc"  // node services; any node certificate of the cluster
	ProtoRaft = "shoal-raft" // Raft; manager certificates only
	ProtoAPI  = "shoal-api"  // Engine API forwarded to the leader; manager certificates only
)

// managerOnly tells which protocols only managers may use.
func managerOnly(proto string) bool { return proto == ProtoRaft || proto == ProtoAPI }

const handshakeTimeout = 10 * time.Second

// serverConfig is the listener's TLS configuration: the settings of each handshake are chosen by
// the one protocol the client names, with this node's certificate as it is at that moment.
func serverConfig(src TLSSource) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			if len(hello.SupportedProtos) != 1 {
				return nil, errors.New("transport: a connection must name one protocol")
			}
			proto := hello.SupportedProtos[0]
			switch proto {
			case ProtoJoin, ProtoRPC, ProtoRaft, ProtoAPI:
			default:
				return nil, fmt.Errorf("transport: unknown protocol %q", proto)
			}
			self, cert, err := localIdentity(src)
			if err != nil {
				return nil, err
			}
			root := src.Root()
			chain := *cert
			if len(chain.Certificate) == 1 {
				// send the root too: a joining node checks it against its token
				chain.Certificate = [][]byte{cert.Certificate[0], root.Cert.Raw}
			}
			cfg := &tls.Config{
				MinVersion:             tls.VersionTLS13,
				Certificates:           []tls.Certificate{chain},
				NextProtos:             []string{proto},
				SessionTicketsDisabled: true, // every connection presents and checks a certificate
			}
			if proto == ProtoJoin {
				cfg.ClientAuth = tls.NoClientCert
				return cfg, nil
			}
			cfg.ClientAuth = tls.RequireAndVerifyClientCert
			cfg.ClientCAs = root.Pool()
			cfg.VerifyConnection = func(cs tls.ConnectionState) error {
				_, err := checkPeer(cs, self.ClusterID, managerOnly(proto))
				return err
			}
			return cfg, nil
		},
	}
}

// checkPeer reads the identity of a verified peer certificate and checks its cluster and role.
func checkPeer(cs tls.ConnectionState, clusterID string, wantManager bool) (Peer, error) {
	if len(cs.PeerCertificates) == 0 {
		return Peer{}, errors.New("transport: peer presented no certificate")
	}
	p, err := identityOf(cs.PeerCertificates[0])
	if err != nil {
		return Peer{}, err
	}
	if p.ClusterID != clusterID {
		return Peer{}, fmt.Errorf("transport: peer %s belongs to cluster %s, not %s", p.NodeID, p.ClusterID, clusterID)
	}
	if wantManager && p.Role != swarm.NodeRoleManager {
		return Peer{}, fmt.Errorf("transport: node %s is not a manager", p.NodeID)
	}
	return p, nil
}

// clientConfig is the TLS configuration of a node that has a certificate: it presents it and
// accepts only a manager of its own cluster.
func clientConfig(src TLSSource, proto string) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		NextProtos: []string{proto},
		ServerName: ca.OUManager, // managers' certificates carry it as a DNS name
		RootCAs:    src.Root().Pool(),
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return src.Certificate()
		},
		VerifyConnection: func(cs tls.ConnectionState) error {
			if cs.NegotiatedProtocol != proto {
				return fmt.Errorf("transport: server does not speak %s", proto)
			}
			self, _, err := localIdentity(src)
			if err != nil {
				return err
			}
			_, err = checkPeer(cs, self.ClusterID, true)
			return err
		},
	}
}

// dialTLS connects to addr and completes the handshake within ctx (or handshakeTimeout).
func dialTLS(ctx context.Context, addr string, cfg *tls.Config) (*tls.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	d := tls.Dialer{NetDialer: &net.Dialer{KeepAlive: 15 * time.Second}, Config: cfg}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return c.(*tls.Conn), nil
}
