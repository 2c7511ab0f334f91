package control

import (
	"context"
	"testing"

	"github.com/docker/docker/api/types/backend"
	"github.com/docker/docker/api/types/container"
)

func TestServiceLogsChecksBeforeStreaming(t *testing.T) {
	ctx := context.Background()
	c := taskFixture(t)
	opts := &container.LogsOptions{ShowStdout: true}
	_, err := c.ServiceLogs(ctx, &backend.LogSelector{Services: []string{"nope"}}, opts)
	wantErr(t, err, 404, "error making log selector: service nope not found")
	_, err = c.ServiceLogs(ctx, &backend.LogSelector{Tasks: []string{"t"}}, opts)
	wantErr(t, err, 400, "error making log selector: task t is ambiguous (5 matches found)")
	_, err = c.ServiceLogs(ctx, &backend.LogSelector{Tasks: []string{"t5attach"}}, opts)
	wantErr(t, err, 500, "error making log selector: logs only supported on container tasks")
	_, err = c.ServiceLogs(ctx, &backend.LogSelector{Services: []string{"web"}}, &container.LogsOptions{Tail: "-2"})
	wantErr(t, err, 500, "negative tail values not supported")
	_, err = c.ServiceLogs(ctx, &backend.LogSelector{Services: []string{"web"}}, &container.LogsOptions{Tail: "x"})
	wantErr(t, err, 500, `tail value must be a positive integer or "all"`)
	// The stream itself is not wired yet.
	_, err = c.ServiceLogs(ctx, &backend.LogSelector{Services: []string{"web"}}, opts)
	wantErr(t, err, 501, "service logs are not implemented yet")
}
