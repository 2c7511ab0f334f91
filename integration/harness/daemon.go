package harness

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shoal-project/shoal/openapi"
)

// Options configure StartDaemon. The zero value is a plain single daemon.
type Options struct {
	// Name labels the daemon in logs (default "shoald").
	Name string
	// Args are extra shoald flags, after -H, --data-root, --exec-root and
	// --log-level.
	Args []string
	// Env is extra environment for shoald, on top of the test's.
	Env []string
	// NetNS runs shoald inside this network namespace (a name under
	// /run/netns, as NewNetNS returns, or a path), through nsenter --net.
	NetNS string
	// Hostname runs shoald in a new UTS namespace with this hostname, so
	// that os.Hostname (the node name Docker shows) differs between
	// daemons of one machine. Mount and PID namespaces stay shared.
	Hostname string
	// Dir is the parent of the daemon's private directory (default the
	// system temp dir). Keep it short: unix socket paths must stay under
	// 108 bytes.
	Dir string
	// Binary is the shoald binary to run instead of ShoaldBinary().
	Binary string
	// StartTimeout bounds the wait for /_ping (default 60s); StopTimeout
	// the wait after SIGTERM before SIGKILL (default 45s); CommandTimeout
	// each Docker call (default 2m).
	StartTimeout, StopTimeout, CommandTimeout time.Duration
	// SkipContract lets clients talk to the daemon socket directly instead
	// of through the openapi.Recorder proxy that fails the test on any
	// Engine API contract violation.
	SkipContract bool
}

// Daemon is a running shoald with its own socket, data root and exec root
// under Dir. Its methods that take no testing.TB report to the test that
// started it and must be called from that test's goroutine (or a subtest's).
type Daemon struct {
	Dir      string // private temp dir holding everything below
	Socket   string // the daemon's own API socket
	Host     string // DOCKER_HOST for clients: unix://<proxy socket>, or unix://<Socket> with SkipContract
	DataRoot string
	ExecRoot string
	LogPath  string // shoald's stdout and stderr, across restarts

	t        testing.TB
	opts     Options
	bin      string
	cliDir   string // DOCKER_CONFIG and HOME of CLI calls
	recorder *openapi.Recorder
	proxy    *openapi.Proxy

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	tracked []proc // every process seen below the daemon, killed at cleanup
	starts  int
}

// StartDaemon starts shoald with
//
//	-H unix://<dir>/docker.sock --data-root <dir>/data --exec-root <dir>/exec --log-level debug
//
// plus opts.Args, waits until /_ping answers, and registers its cleanup.
func StartDaemon(t testing.TB, opts Options) *Daemon {
	t.Helper()
	if opts.Name == "" {
		opts.Name = "shoald"
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 60 * time.Second
	}
	if opts.StopTimeout == 0 {
		opts.StopTimeout = 45 * time.Second
	}
	if opts.CommandTimeout == 0 {
		opts.CommandTimeout = 2 * time.Minute
	}
	bin := opts.Binary
	if bin == "" {
		var err error
		if bin, err = ShoaldBinary(); err != nil {
			t.Fatal(err)
		}
	}
	// A short private dir: unix socket paths must stay under 108 bytes.
	dir, err := os.MkdirTemp(opts.Dir, "shoal-")
	if err != nil {
		t.Fatal(err)
	}
	d := &Daemon{
		Dir: dir, Socket: filepath.Join(dir, "docker.sock"),
		DataRoot: filepath.Join(dir, "data"), ExecRoot: filepath.Join(dir, "exec"),
		LogPath: filepath.Join(dir, "shoald.log"), cliDir: filepath.Join(dir, "cli"),
		t: t, opts: opts, bin: bin,
	}
	t.Cleanup(d.cleanup)
	if err := os.MkdirAll(d.cliDir, 0o700); err != nil {
		t.Fatal(err)
	}
	d.Host = "unix://" + d.Socket
	if !opts.SkipContract {
		contract, err := openapi.Load()
		if err != nil {
			t.Fatal(err)
		}
		d.recorder = openapi.NewRecorder(contract, openapi.UnixTransport(d.Socket))
		if d.proxy, err = d.recorder.ServeUnix(filepath.Join(dir, "proxy.sock")); err != nil {
			t.Fatal(err)
		}
		d.Host = "unix://" + d.proxy.Socket
	}
	d.start()
	return d
}

// Recorder returns the contract recorder clients go through (nil with
// SkipContract).
func (d *Daemon) Recorder() *openapi.Recorder { return d.recorder }

// Env is the environment a client process needs to reach this daemon
// (DOCKER_HOST, a clean DOCKER_CONFIG and HOME, no CLI hints), e.g. for
// docker-py.
func (d *Daemon) Env() []string {
	return []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + d.cliDir,
		"DOCKER_HOST=" + d.Host,
		"DOCKER_CONFIG=" + d.cliDir,
		"DOCKER_CLI_HINTS=false",
	}
}

func (d *Daemon) args() []string {
	args := []string{
		"-H", "unix://" + d.Socket,
		"--data-root", d.DataRoot,
		"--exec-root", d.ExecRoot,
		"--log-level", "debug",
	}
	args = append([]string{d.bin}, append(args, d.opts.Args...)...)
	if d.opts.Hostname != "" {
		// start runs this in a new UTS namespace (CLONE_NEWUTS); the
		// shell names it and execs shoald, which keeps the pid.
		args = append([]string{"/bin/sh", "-c", `hostname "$0" && exec "$@"`, d.opts.Hostname}, args...)
	}
	if d.opts.NetNS == "" {
		return args
	}
	return append([]string{"nsenter", "--net=" + netnsPath(d.opts.NetNS), "--"}, args...)
}

// start launches shoald and waits for /_ping; it fails the test otherwise.
func (d *Daemon) start() {
	d.t.Helper()
	d.mu.Lock()
	d.starts++
	logf, err := os.OpenFile(d.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		d.mu.Unlock()
		d.t.Fatal(err)
	}
	args := d.args()
	fmt.Fprintf(logf, "=== harness: start %d of %s at %s: %s\n", d.starts, d.opts.Name, time.Now().Format(time.RFC3339Nano), strings.Join(args, " "))
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), d.opts.Env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Should the test binary die (a -timeout panic, say), the daemon dies
	// with it. Pdeathsig follows the forking OS thread: do not start a
	// daemon from a goroutine that locks its thread and exits locked.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if d.opts.Hostname != "" {
		cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWUTS
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		d.mu.Unlock()
		d.t.Fatalf("harness: start %s: %v", d.opts.Name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	d.cmd, d.exited = cmd, exited
	d.mu.Unlock()

	if err := d.waitPing(exited); err != nil {
		d.t.Fatalf("harness: %s did not come up: %v\n%s", d.opts.Name, err, d.LogTail(200))
	}
}

// waitPing polls GET /_ping on the daemon socket until it answers 200.
func (d *Daemon) waitPing(exited <-chan struct{}) error {
	client := &http.Client{Transport: openapi.UnixTransport(d.Socket), Timeout: 2 * time.Second}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(d.opts.StartTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("shoald exited: %v", d.cmd.ProcessState)
		default:
		}
		resp, err := client.Get("http://docker/_ping")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("/_ping answered %d %q", resp.StatusCode, body)
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no /_ping answer within %v: %v", d.opts.StartTimeout, last)
}

// Running reports whether the daemon process is alive.
func (d *Daemon) Running() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.exited == nil {
		return false
	}
	select {
	case <-d.exited:
		return false
	default:
		return true
	}
}

// Pid is the daemon's process id, or 0 when it is not running.
func (d *Daemon) Pid() int {
	if !d.Running() {
		return 0
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cmd.Process.Pid
}

// track remembers every process now below the daemon, so that cleanup can
// kill container processes the daemon left behind.
func (d *Daemon) track() {
	if pid := d.Pid(); pid != 0 {
		d.mu.Lock()
		d.tracked = append(d.tracked, descendants(pid)...)
		d.mu.Unlock()
	}
}

// signal sends sig to the daemon and waits up to timeout for it to exit.
func (d *Daemon) signal(sig syscall.Signal, timeout time.Duration) bool {
	d.mu.Lock()
	cmd, exited := d.cmd, d.exited
	d.mu.Unlock()
	if cmd == nil {
		return true
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
		return true
	case <-time.After(timeout):
		return false
	}
}

// Kill SIGKILLs the daemon (a crash) and waits for it to exit. Its
// containers are left running, as after a real crash.
func (d *Daemon) Kill() {
	d.track()
	if !d.signal(syscall.SIGKILL, 10*time.Second) {
		d.t.Errorf("harness: %s did not die on SIGKILL", d.opts.Name)
	}
}

// Stop sends SIGTERM and waits up to StopTimeout, then SIGKILLs. A daemon
// that needed SIGKILL fails the test.
func (d *Daemon) Stop() {
	d.t.Helper()
	if !d.Running() {
		return
	}
	d.track()
	if d.signal(syscall.SIGTERM, d.opts.StopTimeout) {
		return
	}
	// SIGQUIT first: the Go runtime writes every goroutine's stack to the daemon's log, which the
	// failed test prints, so that what held the shutdown up can be read.
	d.t.Errorf("harness: %s did not exit within %v of SIGTERM; its goroutines follow in its log (SIGQUIT), then SIGKILL", d.opts.Name, d.opts.StopTimeout)
	if !d.signal(syscall.SIGQUIT, 5*time.Second) {
		d.signal(syscall.SIGKILL, 10*time.Second)
	}
}

// Restart stops the daemon (if running) and starts it again on the same
// data root, waiting for /_ping.
func (d *Daemon) Restart() {
	d.t.Helper()
	d.Stop()
	d.start()
}

// Start starts a stopped or killed daemon again on the same data root.
func (d *Daemon) Start() {
	d.t.Helper()
	if d.Running() {
		d.t.Fatalf("harness: %s is already running", d.opts.Name)
	}
	d.start()
}

// LogTail returns the last n lines of the daemon log.
func (d *Daemon) LogTail(n int) string {
	return tailFile(d.LogPath, n)
}

func (d *Daemon) cleanup() {
	t := d.t
	if d.Running() {
		d.Stop()
	}
	if d.proxy != nil {
		_ = d.proxy.Close()
	}
	if d.recorder != nil {
		if err := d.recorder.Err(); err != nil {
			t.Errorf("harness: %s: %v", d.opts.Name, err)
		}
	}
	if t.Failed() {
		t.Logf("harness: last 200 lines of %s log (%s):\n%s", d.opts.Name, d.LogPath, d.LogTail(200))
	}
	d.mu.Lock()
	tracked := d.tracked
	d.mu.Unlock()
	if left := killAll(tracked); len(left) > 0 {
		t.Errorf("harness: processes left by %s survive SIGKILL: %v", d.opts.Name, left)
	}
	if left := unmountAll(d.Dir); len(left) > 0 {
		t.Errorf("harness: mounts left under %s: %v", d.Dir, left)
	}
	if d.opts.NetNS == "" {
		removeDataPlaneLeftovers(t)
	}
	if err := os.RemoveAll(d.Dir); err != nil {
		t.Errorf("harness: remove %s: %v", d.Dir, err)
	}
}

// removeDataPlaneLeftovers removes what a shoald's routing mesh leaves in the test's own network
// namespace when it stops without leaving its swarm (as a node keeps it for its next start): the
// gateway bridge and the nftables tables. The namespaces it made went with the unmounts.
func removeDataPlaneLeftovers(t testing.TB) {
	if err := exec.Command("ip", "link", "show", "shoal_gwbridge").Run(); err == nil {
		if out, err := exec.Command("ip", "link", "del", "shoal_gwbridge").CombinedOutput(); err != nil {
			t.Errorf("harness: removing shoal_gwbridge: %v: %s", err, out)
		}
	}
	for _, table := range []string{"shoal-ingress", "shoal-gateway"} {
		if err := exec.Command("nft", "list", "table", "ip", table).Run(); err == nil {
			if out, err := exec.Command("nft", "delete", "table", "ip", table).CombinedOutput(); err != nil {
				t.Errorf("harness: removing the nftables table %s: %v: %s", table, err, out)
			}
		}
	}
}

// tailFile returns the last n lines of the file at path.
func tailFile(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
