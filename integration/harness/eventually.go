package harness

import (
	"testing"
	"time"
)

// Eventually calls cond until it reports true or timeout passes, waiting a
// little longer between calls each time (from 50ms up to 1s). cond returns
// whether the condition holds and a description of what it saw; on timeout
// the test fails with the last description.
func Eventually(t testing.TB, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	wait := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		ok, seen := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v (%d attempts); last observation:\n%s", timeout, attempt, seen)
		}
		time.Sleep(min(wait, time.Until(deadline)+time.Millisecond))
		wait = min(wait*2, time.Second)
	}
}
