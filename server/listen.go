package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// listen opens one API listener for a -H address.
func listen(host string, cfg *Config, log *slog.Logger) (net.Listener, error) {
	u, err := url.Parse(host)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("invalid host %q", host)
	}
	switch u.Scheme {
	case "unix":
		return listenUnix(u.Path)
	case "tcp":
		addr := u.Host
		if _, _, err := net.SplitHostPort(addr); err != nil {
			port := "2375"
			if cfg.TLS || cfg.TLSVerify {
				port = "2376"
			}
			addr = net.JoinHostPort(addr, port)
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, err
		}
		if !cfg.TLS && !cfg.TLSVerify {
			log.Warn("Binding to IP address without --tlsverify is insecure and gives root access on this machine to everyone who has access to your network.", "host", host)
			log.Warn("Binding to an IP address, even on localhost, can also give access to scripts run in a browser. Be safe out there!", "host", host)
			return l, nil
		}
		tc, err := tlsConfig(cfg)
		if err != nil {
			l.Close()
			return nil, err
		}
		return tls.NewListener(l, tc), nil
	}
	return nil, fmt.Errorf("invalid host %q: unsupported protocol %q", host, u.Scheme)
}

// listenUnix opens a unix socket with mode 0660, refusing when a live daemon answers on it and
// removing a stale one.
func listenUnix(path string) (net.Listener, error) {
	if path == "" {
		return nil, errors.New("unix socket path is empty")
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("a daemon is already listening on %s: stop it first (is another shoald or dockerd running?)", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o660); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

func tlsConfig(cfg *Config) (*tls.Config, error) {
	if cfg.TLSCert == "" || cfg.TLSKey == "" {
		return nil, errors.New("--tlscert and --tlskey are required with --tls")
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("could not load X509 key pair: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if cfg.TLSVerify {
		pem, err := os.ReadFile(cfg.TLSCACert)
		if err != nil {
			return nil, fmt.Errorf("could not read CA certificate %q: %w", cfg.TLSCACert, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("failed to append certificates from PEM file: %q", cfg.TLSCACert)
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

func isUnix(host string) bool { return strings.HasPrefix(host, "unix://") }
