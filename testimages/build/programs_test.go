package build

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// programs compiles the testimages programs into a temp dir and returns it.
func programs(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	pkgs := make([]string, len(Programs))
	for i, p := range Programs {
		pkgs[i] = ModulePath + "/testimages/" + p
	}
	bins, err := CompileGo(ctx, pkgs...)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, data := range bins {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// start runs a program and kills it at cleanup.
func start(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
}

// get polls url until it answers or the deadline passes.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := client.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode, string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	if err == nil {
		return 0
	}
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	t.Fatal(err)
	return -1
}

func TestPrograms(t *testing.T) {
	dir := programs(t)

	t.Run("exitcode", func(t *testing.T) {
		tests := []struct {
			args []string
			env  []string
			want int
		}{
			{nil, nil, 0},
			{[]string{"3"}, nil, 3},
			{nil, []string{"EXIT_CODE=7"}, 7},
			{[]string{"5", "50ms"}, []string{"EXIT_CODE=7"}, 5},
			{[]string{"x"}, nil, 2},
		}
		for _, tt := range tests {
			cmd := exec.Command(filepath.Join(dir, "exitcode"), tt.args...)
			cmd.Env = tt.env
			if got := exitCode(t, cmd.Run()); got != tt.want {
				t.Errorf("exitcode %v %v: exit %d, want %d", tt.args, tt.env, got, tt.want)
			}
		}
	})

	t.Run("sleeper exits 0 on SIGTERM", func(t *testing.T) {
		cmd := exec.Command(filepath.Join(dir, "sleeper"), "slot-1")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		start(t, cmd)
		buf := make([]byte, 64)
		n, _ := out.Read(buf) // the start line: signal handling is set up
		if !strings.Contains(string(buf[:n]), "started slot-1") {
			t.Fatalf("start line %q", buf[:n])
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		rest, _ := io.ReadAll(out)
		if got := exitCode(t, cmd.Wait()); got != 0 {
			t.Errorf("exit %d after SIGTERM", got)
		}
		if !strings.Contains(string(rest), "got terminated") {
			t.Errorf("output %q", rest)
		}
	})

	t.Run("whoami", func(t *testing.T) {
		port := freePort(t)
		unhealthy := filepath.Join(t.TempDir(), "unhealthy")
		cmd := exec.Command(filepath.Join(dir, "whoami"))
		cmd.Env = []string{"PORT=" + port, "UNHEALTHY_FILE=" + unhealthy, "WHOAMI_VERSION=2"}
		start(t, cmd)
		host, _ := os.Hostname()
		status, body := get(t, "http://127.0.0.1:"+port+"/some/path?q=1")
		for _, want := range []string{"Hostname: " + host + "\n", "IP: 127.0.0.1\n", "Version: 2\n", "GET /some/path?q=1 HTTP/1.1\n"} {
			if status != 200 || !strings.Contains(body, want) {
				t.Errorf("answer %d %q lacks %q", status, body, want)
			}
		}
		if status, _ := get(t, "http://127.0.0.1:"+port+"/health"); status != 200 {
			t.Errorf("/health %d while healthy", status)
		}
		if err := os.WriteFile(unhealthy, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if status, _ := get(t, "http://127.0.0.1:"+port+"/health"); status != 503 {
			t.Errorf("/health %d with the unhealthy file", status)
		}
	})

	t.Run("healthy -check flips with the file", func(t *testing.T) {
		port := freePort(t)
		unhealthy := filepath.Join(t.TempDir(), "unhealthy")
		env := []string{"PORT=" + port, "UNHEALTHY_FILE=" + unhealthy}
		cmd := exec.Command(filepath.Join(dir, "healthy"))
		cmd.Env = env
		start(t, cmd)
		get(t, "http://127.0.0.1:"+port+"/") // wait until it serves
		check := func() int {
			c := exec.Command(filepath.Join(dir, "healthy"), "-check")
			c.Env = env
			return exitCode(t, c.Run())
		}
		if got := check(); got != 0 {
			t.Errorf("check %d while healthy", got)
		}
		if err := os.WriteFile(unhealthy, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if got := check(); got != 1 {
			t.Errorf("check %d with the unhealthy file", got)
		}
		if err := os.Remove(unhealthy); err != nil {
			t.Fatal(err)
		}
		if got := check(); got != 0 {
			t.Errorf("check %d after removing the file", got)
		}
	})
}
