package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/integration/harness"
)

// runShoald runs shoald with args and returns its output once it exits (or is killed at timeout).
func runShoald(t *testing.T, timeout time.Duration, args ...string) (string, error) {
	t.Helper()
	bin, err := harness.ShoaldBinary()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	return string(out), err
}

// TestDaemonRefusesHeldSocket: a second shoald on a live daemon's socket says so and exits.
func TestDaemonRefusesHeldSocket(t *testing.T) {
	d := harness.StartDaemon(t, harness.Options{SkipContract: true})
	dir := t.TempDir()
	out, err := runShoald(t, 30*time.Second, "-H", "unix://"+d.Socket, "--data-root", dir+"/data", "--exec-root", dir+"/exec")
	if err == nil {
		t.Fatalf("second shoald on a held socket exited 0:\n%s", out)
	}
	if !strings.Contains(out, "a daemon is already listening on "+d.Socket) {
		t.Errorf("second shoald said:\n%s", out)
	}
	d.MustDocker(t, "version") // the first one is unharmed
}

// TestDaemonConfigFileConflict: a directive given as a flag and in daemon.json is refused, as dockerd does.
func TestDaemonConfigFileConflict(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "daemon.json")
	if err := os.WriteFile(cfg, []byte(`{"data-root": "/nowhere"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runShoald(t, 30*time.Second, "--config-file", cfg, "-H", "unix://"+dir+"/s.sock", "--data-root", dir+"/data")
	if err == nil || !strings.Contains(out, "the following directives are specified both as a flag and in the configuration file: data-root") {
		t.Fatalf("conflicting daemon.json: err %v, output:\n%s", err, out)
	}
}

// TestDaemonTLS: a tcp listener with --tlsverify serves clients with a certificate of its CA and
// refuses others.
func TestDaemonTLS(t *testing.T) {
	dir := t.TempDir()
	caCert, caKey := makeCA(t)
	writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", caCert.Raw)
	srvCert, srvKey := makeLeaf(t, caCert, caKey, "server", x509.ExtKeyUsageServerAuth)
	writePEM(t, filepath.Join(dir, "server-cert.pem"), "CERTIFICATE", srvCert)
	writeKey(t, filepath.Join(dir, "server-key.pem"), srvKey)
	cliCert, cliKey := makeLeaf(t, caCert, caKey, "client", x509.ExtKeyUsageClientAuth)
	writePEM(t, filepath.Join(dir, "cert.pem"), "CERTIFICATE", cliCert)
	writeKey(t, filepath.Join(dir, "key.pem"), cliKey)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	d := harness.StartDaemon(t, harness.Options{SkipContract: true, Args: []string{"-H", "tcp://" + addr, "--tlsverify",
		"--tlscacert", filepath.Join(dir, "ca.pem"), "--tlscert", filepath.Join(dir, "server-cert.pem"), "--tlskey", filepath.Join(dir, "server-key.pem")}})
	d.MustDocker(t, "version") // the unix socket still serves
	cfgDir := t.TempDir()
	docker := func(extra ...string) (string, error) {
		args := append([]string{"-H", "tcp://" + addr}, extra...)
		args = append(args, "version", "--format", "{{.Server.APIVersion}}")
		cmd := exec.Command("docker", args...)
		// an empty config dir: the CLI would pick up cert.pem and key.pem from DOCKER_CONFIG by itself
		cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+cfgDir, "DOCKER_CERT_PATH="+cfgDir, "DOCKER_HOST=")
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	out, err := docker("--tlsverify", "--tlscacert", filepath.Join(dir, "ca.pem"), "--tlscert", filepath.Join(dir, "cert.pem"), "--tlskey", filepath.Join(dir, "key.pem"))
	if err != nil || out != "1.51" {
		t.Fatalf("docker with a client certificate: %v: %s", err, out)
	}
	if out, err := docker("--tls", "--tlscacert", filepath.Join(dir, "ca.pem")); err == nil {
		t.Fatalf("docker without a client certificate was served: %s", out)
	}
}

func makeCA(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, key
}

func makeLeaf(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return der, key
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func writeKey(t *testing.T, path string, key *ecdsa.PrivateKey) {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, path, "EC PRIVATE KEY", der)
}
