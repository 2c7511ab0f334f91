package orchestrator

import (
	"log/slog"
	"time"
)

// Clock tells the time and wakes the shells for restart delays, update delays and monitoring.
// Tests drive a fake one; decision code never reads it, it gets the time as an argument.
type Clock interface {
	Now() time.Time
	// After sends the time on the returned channel once d has passed (at once when d <= 0).
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// RealClock is the wall clock.
var RealClock Clock = realClock{}

type options struct {
	clock Clock
	log   *slog.Logger
}

// Option configures a shell.
type Option func(*options)

// WithClock sets the clock (default: the wall clock).
func WithClock(c Clock) Option { return func(o *options) { o.clock = c } }

// WithLogger sets the logger (default: slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

func buildOptions(opts []Option) options {
	o := options{clock: RealClock, log: slog.Default()}
	for _, f := range opts {
		f(&o)
	}
	return o
}
