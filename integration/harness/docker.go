package harness

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// DockerCLI is the stock docker CLI the tests drive.
const DockerCLI = "/usr/local/bin/docker"

// Docker runs the docker CLI against the daemon (through the contract proxy
// unless SkipContract) with a clean DOCKER_CONFIG, and returns its output
// and exit code. A CLI that does not finish within CommandTimeout is killed
// and reported with exit code -1 and a note in stderr. Each call is logged.
func (d *Daemon) Docker(t testing.TB, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	return d.DockerStdin(t, "", args...)
}

// DockerStdin is Docker with stdin as the CLI's standard input.
func (d *Daemon) DockerStdin(t testing.TB, stdin string, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d.opts.CommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, DockerCLI, args...)
	cmd.Env = d.Env()
	cmd.Stdin = strings.NewReader(stdin)
	cmd.WaitDelay = 5 * time.Second
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	exitCode = 0
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		exitCode = -1
		fmt.Fprintf(&errOut, "\nharness: docker %s timed out after %v", strings.Join(args, " "), d.opts.CommandTimeout)
	case errors.As(err, &ee):
		exitCode = ee.ExitCode()
	case err != nil:
		exitCode = -1
		fmt.Fprintf(&errOut, "\nharness: docker %s: %v", strings.Join(args, " "), err)
	}
	t.Logf("docker %s -> exit %d in %v%s%s", strings.Join(args, " "), exitCode, time.Since(start).Round(time.Millisecond),
		clip("\n  stdout: ", out.String()), clip("\n  stderr: ", errOut.String()))
	return out.String(), errOut.String(), exitCode
}

// MustDocker is Docker that fails the test unless the CLI exits 0; it
// returns stdout with surrounding whitespace trimmed.
func (d *Daemon) MustDocker(t testing.TB, args ...string) string {
	t.Helper()
	stdout, stderr, code := d.Docker(t, args...)
	if code != 0 {
		t.Fatalf("docker %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, stdout, stderr)
	}
	return strings.TrimSpace(stdout)
}

// Client returns a Docker Go SDK client for the daemon (through the
// contract proxy unless SkipContract), negotiating the API version. It is
// closed at test cleanup.
func (d *Daemon) Client(t testing.TB) *client.Client {
	t.Helper()
	c, err := client.NewClientWithOpts(client.WithHost(d.Host), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatalf("harness: docker client: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// clip prefixes s with label and shortens it for the test log; empty s
// gives "".
func clip(label, s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	const max = 2000
	if len(s) > max {
		s = s[:max] + fmt.Sprintf("... (%d bytes more)", len(s)-max)
	}
	return label + s
}

// DockerLines starts a docker command that streams (logs -f, events) and returns its standard
// output line by line; the channel closes when the command's output ends. The command is killed
// when ctx ends or the test ends, whichever comes first, and waited for.
func (d *Daemon) DockerLines(ctx context.Context, t testing.TB, args ...string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, DockerCLI, args...)
	cmd.Env = d.Env()
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Logf("docker %s (streaming)", strings.Join(args, " "))
	lines := make(chan string, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = cmd.Wait()
	})
	return lines
}
