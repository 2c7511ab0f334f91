package routes

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
)

func TestExecSDK(t *testing.T) {
	env := startEnv(t)
	c, ctx := env.sdk(t), testCtx(t)

	if _, err := c.ContainerExecCreate(ctx, "zz", container.ExecOptions{Cmd: []string{"echo"}}); !cerrdefs.IsNotFound(err) {
		t.Errorf("missing container: %v", err)
	}

	// Non-TTY: stdin goes in, stdout and stderr come back multiplexed, and a half-close ends stdin.
	created, err := c.ContainerExecCreate(ctx, "c1", container.ExecOptions{Cmd: []string{"cat"}, AttachStdin: true, AttachStdout: true})
	if err != nil {
		t.Fatal(err)
	}
	hr, err := c.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hr.Conn.Write([]byte("hello\nworld\n")); err != nil {
		t.Fatal(err)
	}
	if err := hr.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, hr.Reader); err != nil {
		t.Fatal(err)
	}
	hr.Close()
	if stdout.String() != "hello\nworld\n" || stderr.Len() != 0 {
		t.Errorf("cat: %q %q", stdout.String(), stderr.String())
	}

	// stderr is stream 2.
	created, _ = c.ContainerExecCreate(ctx, "c1", container.ExecOptions{Cmd: []string{"fail"}})
	hr, err = c.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	stderr.Reset()
	if _, err := stdcopy.StdCopy(&stdout, &stderr, hr.Reader); err != nil {
		t.Fatal(err)
	}
	hr.Close()
	if stdout.Len() != 0 || stderr.String() != "failing on purpose\n" {
		t.Errorf("fail: %q %q", stdout.String(), stderr.String())
	}
	ins, err := c.ContainerExecInspect(ctx, created.ID)
	if err != nil || ins.ExitCode != 3 {
		t.Errorf("inspect %+v %v", ins, err)
	}

	// TTY: raw output.
	created, _ = c.ContainerExecCreate(ctx, "c1", container.ExecOptions{Cmd: []string{"echo", "hi", "there"}, Tty: true})
	hr, err = c.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{Tty: true})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(hr.Reader)
	hr.Close()
	if string(raw) != "hi there\n" {
		t.Errorf("tty: %q", raw)
	}

	// Detached: 200 and the exec has run.
	created, _ = c.ContainerExecCreate(ctx, "c1", container.ExecOptions{Cmd: []string{"fail"}})
	if err := c.ContainerExecStart(ctx, created.ID, container.ExecStartOptions{Detach: true}); err != nil {
		t.Fatal(err)
	}
	if ins, _ := c.ContainerExecInspect(ctx, created.ID); ins.ExitCode != 3 {
		t.Errorf("detached exit %d", ins.ExitCode)
	}

	if err := c.ContainerExecResize(ctx, created.ID, container.ResizeOptions{Height: 24, Width: 80}); err != nil {
		t.Fatal(err)
	}
	if env.containers.resized != created.ID+" 24x80" {
		t.Errorf("resize %q", env.containers.resized)
	}
	if err := c.ContainerExecStart(ctx, "nope", container.ExecStartOptions{Detach: true}); !cerrdefs.IsNotFound(err) {
		t.Errorf("unknown exec: %v", err)
	}
}

// TestExecUpgradeResponse checks the bytes of the hijacked answer, with and without Upgrade.
func TestExecUpgradeResponse(t *testing.T) {
	env := startEnv(t)
	c, ctx := env.sdk(t), testCtx(t)
	for _, tt := range []struct {
		name, path string
		upgrade    bool
		wantStatus string
		wantCT     string
	}{
		{"upgrade 1.51", "/v1.51", true, "HTTP/1.1 101 UPGRADED", "application/vnd.docker.multiplexed-stream"},
		{"upgrade 1.41", "/v1.41", true, "HTTP/1.1 101 UPGRADED", "application/vnd.docker.raw-stream"},
		{"no upgrade", "/v1.51", false, "HTTP/1.1 200 OK", "application/vnd.docker.raw-stream"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			created, err := c.ContainerExecCreate(ctx, "c1", container.ExecOptions{Cmd: []string{"echo", "x"}})
			if err != nil {
				t.Fatal(err)
			}
			conn, err := net.DialTimeout("unix", env.sock, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			body := `{"Detach":false,"Tty":false}`
			req := "POST " + tt.path + "/exec/" + created.ID + "/start HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\n"
			if tt.upgrade {
				req += "Connection: Upgrade\r\nUpgrade: tcp\r\n"
			}
			req += "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
			if _, err := conn.Write([]byte(req)); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(conn)
			status, _ := br.ReadString('\n')
			if strings.TrimSpace(status) != tt.wantStatus {
				t.Fatalf("status line %q", status)
			}
			headers := map[string]string{}
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					t.Fatal(err)
				}
				line = strings.TrimSpace(line)
				if line == "" {
					break
				}
				k, v, _ := strings.Cut(line, ": ")
				headers[k] = v
			}
			if headers["Content-Type"] != tt.wantCT || headers["Api-Version"] != "1.51" || headers["Server"] != "Docker/test-1.0 (linux)" {
				t.Errorf("headers %v", headers)
			}
			if tt.upgrade && (headers["Connection"] != "Upgrade" || headers["Upgrade"] != "tcp") {
				t.Errorf("upgrade headers %v", headers)
			}
			var stdout bytes.Buffer
			if _, err := stdcopy.StdCopy(&stdout, io.Discard, br); err != nil {
				t.Fatal(err)
			}
			if stdout.String() != "x\n" {
				t.Errorf("output %q", stdout.String())
			}
		})
	}
}

// TestExecErrorAfterHijack: a start failure after the 101 is written into the stream.
func TestExecErrorAfterHijack(t *testing.T) {
	env := startEnv(t)
	c, ctx := env.sdk(t), testCtx(t)
	created, _ := c.ContainerExecCreate(ctx, "c1", container.ExecOptions{Cmd: []string{"error"}})
	hr, err := c.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer hr.Close()
	var stdout bytes.Buffer
	_, _ = stdcopy.StdCopy(&stdout, io.Discard, hr.Reader)
	if stdout.String() != "exec failed: no such binary\r\n" {
		t.Errorf("output %q", stdout.String())
	}
}

func TestExecCLI(t *testing.T) {
	env := startEnv(t)

	res := env.docker(t, "hi\n", "exec", "-i", "c1", "cat")
	if res.code != 0 || res.stdout != "hi\n" {
		t.Errorf("exec -i cat: rc %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
	res = env.docker(t, "", "exec", "c1", "echo", "hello", "world")
	if res.code != 0 || res.stdout != "hello world\n" {
		t.Errorf("exec echo: rc %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
	res = env.docker(t, "", "exec", "-t", "c1", "echo", "tty")
	if res.code != 0 || res.stdout != "tty\n" {
		t.Errorf("exec -t: rc %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
	res = env.docker(t, "", "exec", "c1", "fail")
	if res.code != 3 || res.stderr != "failing on purpose\n" {
		t.Errorf("exec fail: rc %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
	res = env.docker(t, "", "exec", "nope", "echo")
	if res.code == 0 || !strings.Contains(res.stderr, "Error response from daemon: No such container: nope") {
		t.Errorf("exec missing: rc %d stderr %q", res.code, res.stderr)
	}
}

// TestExecEarlyStdin: stdin sent right behind the request (before the 101 is read) must not be lost,
// though the server may have buffered it while reading the request.
func TestExecEarlyStdin(t *testing.T) {
	env := startEnv(t)
	c, ctx := env.sdk(t), testCtx(t)
	created, err := c.ContainerExecCreate(ctx, "c1", container.ExecOptions{Cmd: []string{"cat"}, AttachStdin: true})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("unix", env.sock, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	body := `{"Detach":false,"Tty":false}`
	req := "POST /v1.51/exec/" + created.ID + "/start HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\n" +
		"Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body + "early bytes\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	if err := conn.(*net.UnixConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
	}
	var stdout bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, io.Discard, br); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "early bytes\n" {
		t.Errorf("output %q", stdout.String())
	}
}
