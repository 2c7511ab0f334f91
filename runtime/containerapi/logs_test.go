package containerapi

import (
	"testing"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
)

func TestLogOptions(t *testing.T) {
	tests := []struct {
		in      containertypes.LogsOptions
		tail    int
		since   time.Time
		until   time.Time
		wantErr bool
	}{
		{in: containertypes.LogsOptions{ShowStdout: true}, tail: -1},
		{in: containertypes.LogsOptions{ShowStdout: true, Tail: "all"}, tail: -1},
		{in: containertypes.LogsOptions{ShowStdout: true, Tail: "3"}, tail: 3},
		{in: containertypes.LogsOptions{ShowStdout: true, Tail: "0"}, tail: 0},
		{in: containertypes.LogsOptions{ShowStdout: true, Tail: "-1"}, tail: -1},
		{in: containertypes.LogsOptions{ShowStdout: true, Since: "1795586254.5", Until: "1795586300"}, tail: -1,
			since: time.Unix(1795586254, 500000000), until: time.Unix(1795586300, 0)},
		{in: containertypes.LogsOptions{ShowStdout: true, Until: "0"}, tail: -1},
		{in: containertypes.LogsOptions{ShowStdout: true, Since: "yesterday"}, wantErr: true},
	}
	for _, tc := range tests {
		lo, err := LogOptions(tc.in)
		if tc.wantErr {
			if err == nil {
				t.Errorf("LogOptions(%+v): no error", tc.in)
			}
			continue
		}
		if err != nil || lo.Tail != tc.tail || !lo.Since.Equal(tc.since) || !lo.Until.Equal(tc.until) || !lo.Stdout || lo.Stderr {
			t.Errorf("LogOptions(%+v) = %+v, %v", tc.in, lo, err)
		}
	}
}
