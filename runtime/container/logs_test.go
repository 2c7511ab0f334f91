package container

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/backend"
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
