package container

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/backend"
	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/errdefs"
)

func TestLogsJSONFileFormat(t *testing.T) {
	e := newTestEnv(t)
	c := e.run(testSpec("sh", "-c", "echo one; echo two >&2; printf 'no newline'"))
	if code, _ := e.wait(c.ID); code != 0 {
		t.Fatalf("exit %d", code)
	}
	f, err := os.Open(c.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !strings.HasSuffix(c.LogPath, "/containers/"+c.ID+"/"+c.ID+"-json.log") {
		t.Errorf("log path %s", c.LogPath)
	}
	type entry struct {
		Log, Stream, Time string
	}
	byStream := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var raw map[string]any
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil || len(raw) != 3 {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		var en entry
		_ = json.Unmarshal(sc.Bytes(), &en)
		if _, err := time.Parse(time.RFC3339Nano, en.Time); err != nil || !strings.HasSuffix(en.Time, "Z") {
			t.Errorf("time %q: %v", en.Time, err)
		}
		byStream[en.Stream] = append(byStream[en.Stream], en.Log)
	}
	if strings.Join(byStream["stdout"], "|") != "one\n|no newline" || strings.Join(byStream["stderr"], "|") != "two\n" {
		t.Fatalf("entries %q", byStream)
	}
}

func collect(t *testing.T, ch <-chan *backend.LogMessage) []string {
	t.Helper()
	var out []string
	timeout := time.After(30 * time.Second)
	for {
		select {
		case m, ok := <-ch:
			if !ok {
				return out
			}
			if m.Err != nil {
				t.Fatal(m.Err)
			}
			out = append(out, m.Source+":"+string(m.Line))
		case <-timeout:
			t.Fatalf("log stream did not end; got %q", out)
		}
	}
}

func TestLogsTailStreamsSince(t *testing.T) {
	e := newTestEnv(t)
	c := e.run(testSpec("sh", "-c", "for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done"))
	e.wait(c.ID)
	ctx := testCtx(t)
	logs := func(o LogOptions) []string {
		ch, err := e.r.Logs(ctx, c.ID, o)
		if err != nil {
			t.Fatal(err)
		}
		return collect(t, ch)
	}
	all := logs(LogOptions{Stdout: true, Stderr: true, Tail: -1})
	if len(all) != 10 {
		t.Fatalf("all: %q", all)
	}
	if got := logs(LogOptions{Stdout: true, Tail: -1}); strings.Join(got, "") != "stdout:out1\nstdout:out2\nstdout:out3\nstdout:out4\nstdout:out5\n" {
		t.Fatalf("stdout only: %q", got)
	}
	if got := logs(LogOptions{Stdout: true, Stderr: true, Tail: 2}); len(got) != 2 || got[0] != all[8] || got[1] != all[9] {
		t.Fatalf("tail 2: %q (all %q)", got, all)
	}
	if got := logs(LogOptions{Stdout: true, Stderr: true, Tail: 0}); len(got) != 0 {
		t.Fatalf("tail 0: %q", got)
	}
	if got := logs(LogOptions{Stdout: true, Stderr: true, Tail: -1, Since: time.Now().Add(time.Hour)}); len(got) != 0 {
		t.Fatalf("since the future: %q", got)
	}
	if got := logs(LogOptions{Stdout: true, Stderr: true, Tail: -1, Until: time.Now().Add(-time.Hour)}); len(got) != 0 {
		t.Fatalf("until the past: %q", got)
	}
	if _, err := e.r.Logs(ctx, c.ID, LogOptions{}); err == nil {
		t.Fatal("no stream chosen: no error")
	}
}

func TestLogsFollow(t *testing.T) {
	e := newTestEnv(t)
	c := e.run(testSpec("sh", "-c", "echo first; while [ ! -e /tmp/go ]; do sleep 0.02; done; echo second; echo third >&2"))
	ctx := testCtx(t)
	ch, err := e.r.Logs(ctx, c.ID, LogOptions{Stdout: true, Stderr: true, Follow: true, Tail: -1})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-ch:
		if string(m.Line) != "first\n" {
			t.Fatalf("first message %q", m.Line)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no first line")
	}
	if code, err := e.r.Exec(ctx, c.ID, ExecSpec{Cmd: []string{"touch", "/tmp/go"}}, nil, nil, nil, nil); err != nil || code != 0 {
		t.Fatalf("exec: %d %v", code, err)
	}
	// The stream ends by itself when the container exits.
	rest := collect(t, ch)
	if strings.Join(rest, "") != "stdout:second\nstderr:third\n" && strings.Join(rest, "") != "stderr:third\nstdout:second\n" {
		t.Fatalf("followed: %q", rest)
	}

	// Cancelling the context ends a follow of a running container.
	c2 := e.run(testSpec("sleep", "1000"))
	cctx, cancel := context.WithCancel(ctx)
	ch, err = e.r.Logs(cctx, c2.ID, LogOptions{Stdout: true, Follow: true, Tail: -1})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	collect(t, ch)
}

// A container with max-size and max-file keeps at most max-file files of about max-size, and
// Logs reads them in order.
func TestLogsRotateContainerOutput(t *testing.T) {
	e := newTestEnv(t)
	s := testSpec("sh", "-c", "i=1; while [ $i -le 300 ]; do echo line-$i; i=$((i+1)); done")
	s.LogConfig = containertypes.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "1k", "max-file": "3"}}
	c := e.run(s)
	if code, _ := e.wait(c.ID); code != 0 {
		t.Fatalf("exit %d", code)
	}
	files, err := filepath.Glob(c.LogPath + "*")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	if want := []string{c.LogPath, c.LogPath + ".1", c.LogPath + ".2"}; !slices.Equal(files, want) {
		t.Fatalf("log files %v, want %v", files, want)
	}
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 1000+100 { // one entry past max-size at most
			t.Errorf("%s holds %d bytes", f, fi.Size())
		}
	}
	ctx := testCtx(t)
	ch, err := e.r.Logs(ctx, c.ID, LogOptions{Stdout: true, Stderr: true, Tail: -1})
	if err != nil {
		t.Fatal(err)
	}
	all := collect(t, ch)
	if len(all) < 20 || len(all) > 60 || all[len(all)-1] != "stdout:line-300\n" {
		t.Fatalf("%d entries kept, last %q", len(all), all[len(all)-1:])
	}
	first := 301 - len(all)
	for i, l := range all {
		if l != fmt.Sprintf("stdout:line-%d\n", first+i) {
			t.Fatalf("entry %d is %q, want line-%d", i, l, first+i)
		}
	}
	ch, err = e.r.Logs(ctx, c.ID, LogOptions{Stdout: true, Tail: 5})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(collect(t, ch), ""); got != "stdout:line-296\nstdout:line-297\nstdout:line-298\nstdout:line-299\nstdout:line-300\n" {
		t.Fatalf("tail 5: %q", got)
	}
}

func TestLogsDriverChoice(t *testing.T) {
	e := newTestEnv(t)
	ctx := testCtx(t)
	for _, tt := range []struct {
		cfg  containertypes.LogConfig
		want string
	}{
		{containertypes.LogConfig{Type: "json-file", Config: map[string]string{"bogus": "1"}}, "unknown log opt 'bogus' for json-file log driver"},
		{containertypes.LogConfig{Type: "gelf"}, "logger: no log driver named 'gelf' is registered"},
		{containertypes.LogConfig{Type: "local", Config: map[string]string{"max-file": "1"}}, "failed to initialize logging driver: compression cannot be enabled when max file count is 1"},
		{containertypes.LogConfig{Config: map[string]string{"max-size": "1k", "max-file": "0"}}, "failed to initialize logging driver: max-file cannot be less than 1"},
	} {
		s := testSpec("true")
		s.LogConfig = tt.cfg
		_, err := e.r.Create(ctx, s)
		if err == nil || err.Error() != tt.want || !errdefs.IsInvalidParameter(err) {
			t.Errorf("create with %+v: %v, want %q", tt.cfg, err, tt.want)
		}
		if _, err := os.Stat(filepath.Join(e.dataRoot, "containers", s.ID)); !os.IsNotExist(err) {
			t.Errorf("a refused create left its directory: %v", err)
		}
	}

	s := testSpec("sh", "-c", "echo dropped; echo dropped too >&2")
	s.LogConfig = containertypes.LogConfig{Type: "none"}
	c := e.run(s)
	if code, _ := e.wait(c.ID); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if c.LogPath != "" || c.Spec.LogConfig.Type != "none" {
		t.Errorf("log path %q, config %+v", c.LogPath, c.Spec.LogConfig)
	}
	if logs, _ := filepath.Glob(filepath.Join(e.dataRoot, "containers", c.ID, "*.log*")); len(logs) != 0 {
		t.Errorf("driver none wrote %v", logs)
	}
	if _, err := e.r.Logs(ctx, c.ID, LogOptions{Stdout: true}); err == nil ||
		err.Error() != "configured logging driver does not support reading" || !errdefs.IsNotImplemented(err) {
		t.Errorf("logs of a none container: %v", err)
	}
}
