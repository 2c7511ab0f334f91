package container

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
)

// Docker's health check defaults and limits.
const (
	defaultProbeInterval  = 30 * time.Second
	defaultProbeTimeout   = 30 * time.Second
	defaultStartInterval  = 5 * time.Second
	defaultProbeRetries   = 3
	maxHealthLogEntries   = 5
	maxHealthOutputLength = 4096
)

// healthProbeCommand returns the command a health check runs, nil for none.
func healthProbeCommand(hc *containertypes.HealthConfig) ([]string, error) {
	if hc == nil || len(hc.Test) == 0 {
		return nil, nil
	}
	switch hc.Test[0] {
	case "NONE":
		return nil, nil
	case "CMD":
		if len(hc.Test) < 2 {
			return nil, invalidf("invalid healthcheck: CMD needs a command")
		}
		return hc.Test[1:], nil
	case "CMD-SHELL":
		if len(hc.Test) != 2 {
			return nil, invalidf("invalid healthcheck: CMD-SHELL needs exactly one command string")
		}
		return []string{"/bin/sh", "-c", hc.Test[1]}, nil
	}
	return nil, invalidf("unknown healthcheck type %q (expected CMD, CMD-SHELL or NONE)", hc.Test[0])
}

func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// applyProbeResult is Docker's health state machine: a success makes the container healthy;
// a failure counts towards Retries, except while it is still starting within StartPeriod.
// The log keeps the last five results.
func applyProbeResult(h containertypes.Health, res containertypes.HealthcheckResult, startedAt time.Time, hc *containertypes.HealthConfig) containertypes.Health {
	out := containertypes.Health{Status: h.Status, FailingStreak: h.FailingStreak}
	keep := h.Log
	if len(keep) >= maxHealthLogEntries {
		keep = keep[len(keep)+1-maxHealthLogEntries:]
	}
	out.Log = append(append([]*containertypes.HealthcheckResult{}, keep...), &res)

	if res.ExitCode == 0 {
		out.FailingStreak = 0
		out.Status = containertypes.Healthy
		return out
	}
	if out.Status == containertypes.Starting && res.Start.Sub(startedAt) < hc.StartPeriod {
		return out
	}
	out.FailingStreak++
	retries := hc.Retries
	if retries <= 0 {
		retries = defaultProbeRetries
	}
	if out.FailingStreak >= retries {
		out.Status = containertypes.Unhealthy
	}
	return out
}

// nextProbeDelay is the wait before the next probe: StartInterval while the container is
// starting within its StartPeriod, else Interval.
func nextProbeDelay(status containertypes.HealthStatus, startedAt, now time.Time, hc *containertypes.HealthConfig) time.Duration {
	interval := durationOr(hc.Interval, defaultProbeInterval)
	if now.Sub(startedAt) >= hc.StartPeriod || status != containertypes.Starting {
		return interval
	}
	return durationOr(hc.StartInterval, defaultStartInterval)
}

// startHealth starts the health monitor of a run; c.mu is held.
func (r *Runtime) startHealth(c *ctr, rn *run) {
	cmd, _ := healthProbeCommand(c.meta.Spec.Healthcheck)
	if cmd == nil {
		return
	}
	if c.meta.State.Health == nil {
		c.meta.State.Health = &containertypes.Health{Status: containertypes.Starting, Log: []*containertypes.HealthcheckResult{}}
	}
	hc := *c.meta.Spec.Healthcheck
	startedAt := c.meta.State.StartedAt
	rn.healthStop = make(chan struct{})
	stop := rn.healthStop
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		timer := time.NewTimer(nextProbeDelay(containertypes.Starting, startedAt, time.Now(), &hc))
		defer timer.Stop()
		for {
			select {
			case <-stop:
				return
			case <-r.ctx.Done():
				return
			case <-timer.C:
			}
			res := r.probe(c, cmd, &hc, stop)
			c.mu.Lock()
			select {
			case <-stop: // stopped while probing: the result no longer matters
				c.mu.Unlock()
				return
			default:
			}
			h := c.meta.State.Health
			old := h.Status
			*h = applyProbeResult(*h, res, startedAt, &hc)
			status := h.Status
			if status != old {
				if err := c.save(); err != nil {
					r.log.Error("save container state", "id", c.id, "err", err)
				}
			}
			c.mu.Unlock()
			if status != old {
				r.emit(Event{ID: c.id, Action: "health_status", Health: status})
			}
			timer.Reset(nextProbeDelay(status, startedAt, time.Now(), &hc))
		}
	}()
}

// probe runs one health check command in the container.
func (r *Runtime) probe(c *ctr, cmd []string, hc *containertypes.HealthConfig, stop <-chan struct{}) containertypes.HealthcheckResult {
	timeout := durationOr(hc.Timeout, defaultProbeTimeout)
	ctx, cancel := context.WithTimeout(r.ctx, timeout)
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	out := &limitedBuffer{max: maxHealthOutputLength}
	start := time.Now()
	code, err := r.Exec(ctx, c.id, ExecSpec{Cmd: cmd}, nil, out, out, nil)
	res := containertypes.HealthcheckResult{Start: start, End: time.Now(), ExitCode: code, Output: out.String()}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		res.ExitCode = -1
		if res.Output != "" {
			res.Output = fmt.Sprintf("Health check exceeded timeout (%v): %s", timeout, res.Output)
		} else {
			res.Output = fmt.Sprintf("Health check exceeded timeout (%v)", timeout)
		}
	case err != nil:
		res.ExitCode = -1
		res.Output = err.Error()
	}
	return res
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
