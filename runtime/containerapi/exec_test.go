package containerapi

import (
	"context"
	"testing"
	"time"

	"github.com/docker/docker/errdefs"
)

func TestExecRegistry(t *testing.T) {
	b := &Backend{execs: newExecRegistry(), now: func() time.Time { return t0 }}
	ctx := context.Background()

	_, err := b.ExecInspect(ctx, "nope")
	if !errdefs.IsNotFound(err) || err.Error() != "No such exec instance: nope" {
		t.Errorf("inspect of a missing exec: %v", err)
	}
	if err := b.ExecResize(ctx, "nope", 24, 80); !errdefs.IsNotFound(err) {
		t.Errorf("resize of a missing exec: %v", err)
	}

	running := &execProcess{id: newExecID(), containerID: "c1", resize: make(chan [2]uint, 1), running: true, ran: true, pid: 42}
	done := &execProcess{id: newExecID(), containerID: "c1", resize: make(chan [2]uint, 1), ran: true}
	done.finish(3, nil, t0)
	other := &execProcess{id: newExecID(), containerID: "c2", resize: make(chan [2]uint, 1)}
	for _, e := range []*execProcess{running, done, other} {
		b.execs.add(e, t0)
	}
	if len(running.id) != 64 {
		t.Errorf("exec ID %q is not 64 hex digits", running.id)
	}
	if ids := b.execs.runningIDs("c1"); len(ids) != 1 || ids[0] != running.id {
		t.Errorf("running execs of c1: %v", ids)
	}
	if ids := b.execs.runningIDs("c2"); ids != nil {
		t.Errorf("running execs of c2: %v", ids)
	}
	got, err := b.ExecInspect(ctx, done.id)
	if err != nil || got.Running || got.ExitCode != 3 || got.ContainerID != "c1" || got.ExecID != done.id {
		t.Errorf("inspect of a finished exec: %+v, %v", got, err)
	}
	if got, _ := b.ExecInspect(ctx, running.id); !got.Running || got.Pid != 42 {
		t.Errorf("inspect of a running exec: %+v", got)
	}

	// The latest size wins when nobody has read the earlier one.
	if err := b.ExecResize(ctx, running.id, 24, 80); err != nil {
		t.Fatal(err)
	}
	if err := b.ExecResize(ctx, running.id, 50, 120); err != nil {
		t.Fatal(err)
	}
	if sz := <-running.resize; sz != [2]uint{50, 120} {
		t.Errorf("resize delivered %v", sz)
	}

	// A failed start has the exit code dockerd gives it: 128 when the cause is unknown.
	failed := &execProcess{id: newExecID()}
	failed.finish(-1, errdefs.System(context.Canceled), t0)
	if failed.exitCode != 128 || failed.running {
		t.Errorf("failed start: %+v", failed)
	}

	// Finished execs are dropped after a while; removed containers' execs at once.
	b.execs.add(&execProcess{id: newExecID(), containerID: "c3"}, t0.Add(execKeep+time.Second))
	if _, err := b.execs.get(done.id); err == nil {
		t.Error("an exec finished long ago is still there")
	}
	if _, err := b.execs.get(running.id); err != nil {
		t.Errorf("a running exec was dropped: %v", err)
	}
	b.execs.forgetContainer("c1")
	if _, err := b.execs.get(running.id); err == nil {
		t.Error("the exec of a removed container is still there")
	}
}

func TestCheckDetachKeys(t *testing.T) {
	for _, keys := range []string{"", "ctrl-p,ctrl-q", "a", "ctrl-x,y", "ctrl-@"} {
		if err := checkDetachKeys(keys); err != nil {
			t.Errorf("%q: %v", keys, err)
		}
	}
	for _, keys := range []string{"bogus", "ctrl-", "ctrl-p,,"} {
		if err := checkDetachKeys(keys); err == nil || err.Error() != "Invalid escape keys ("+keys+") provided" {
			t.Errorf("%q: %v", keys, err)
		}
	}
}
