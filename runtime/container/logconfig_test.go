package container

import (
	"testing"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/errdefs"
)

func TestParseLogConfig(t *testing.T) {
	unlimited := logPolicy{maxSize: -1, maxFiles: 1}
	tests := []struct {
		name    string
		typ     string
		opts    map[string]string
		want    logPolicy
		wantErr string
	}{
		{name: "default", want: unlimited},
		{name: "json-file without options", typ: "json-file", want: unlimited},
		{name: "size in decimal units", typ: "json-file", opts: map[string]string{"max-size": "10k"}, want: logPolicy{maxSize: 10000, maxFiles: 1}},
		{name: "size and files", typ: "json-file", opts: map[string]string{"max-size": "1m", "max-file": "3"}, want: logPolicy{maxSize: 1000000, maxFiles: 3}},
		{name: "binary-looking suffix is decimal too", opts: map[string]string{"max-size": "2KiB"}, want: logPolicy{maxSize: 2000, maxFiles: 1}},
		{name: "plain bytes", opts: map[string]string{"max-size": "1500"}, want: logPolicy{maxSize: 1500, maxFiles: 1}},
		{name: "max-file without max-size does nothing", opts: map[string]string{"max-file": "5"}, want: logPolicy{maxSize: -1, maxFiles: 5}},
		{name: "ignored options", opts: map[string]string{"tag": "{{.Name}}", "labels": "a", "env": "B", "labels-regex": "x", "env-regex": "y",
			"mode": "non-blocking", "max-buffer-size": "4m", "cache-disabled": "true", "cache-max-size": "1m", "cache-max-file": "2", "cache-compress": "false"},
			want: unlimited},
		{name: "compress with rotation", opts: map[string]string{"max-size": "1k", "max-file": "2", "compress": "true"}, want: logPolicy{maxSize: 1000, maxFiles: 2}},
		{name: "compress false alone", opts: map[string]string{"compress": "false"}, want: unlimited},
		{name: "none takes anything", typ: "none", opts: map[string]string{"bogus": "1"}, want: logPolicy{none: true, maxSize: -1, maxFiles: 1}},

		{name: "unknown option", typ: "json-file", opts: map[string]string{"bogus": "1"}, wantErr: "unknown log opt 'bogus' for json-file log driver"},
		{name: "unknown option, default driver", opts: map[string]string{"max-size": "1k", "zz": "1", "aa": "2"}, wantErr: "unknown log opt 'aa' for json-file log driver"},
		{name: "unknown driver", typ: "gelf", wantErr: "logger: no log driver named 'gelf' is registered"},
		{name: "local: dockerd's defaults", typ: "local", want: logPolicy{maxSize: 20 * 1024 * 1024, maxFiles: 5}},
		{name: "local with options", typ: "local", opts: map[string]string{"max-size": "1k", "max-file": "2"}, want: logPolicy{maxSize: 1000, maxFiles: 2}},
		{name: "local without limits", typ: "local", opts: map[string]string{"max-size": "0", "max-file": "0", "compress": "false"}, want: unlimited},
		{name: "local: one file compressed", typ: "local", opts: map[string]string{"max-file": "1"}, wantErr: "failed to initialize logging driver: compression cannot be enabled when max file count is 1"},
		{name: "local: json-file's options are not its", typ: "local", opts: map[string]string{"tag": "x"}, wantErr: "unknown log opt 'tag' for log driver local"},
		{name: "journald", typ: "journald", opts: map[string]string{"max-size": "1k"}, wantErr: "logger: no log driver named 'journald' is registered"},
		{name: "bad mode first", typ: "syslog", opts: map[string]string{"mode": "fast"}, wantErr: "logger: logging mode not supported: fast"},
		{name: "buffer size needs non-blocking", opts: map[string]string{"max-buffer-size": "1m"}, wantErr: "logger: max-buffer-size option is only supported with 'mode=non-blocking'"},
		{name: "bad buffer size", opts: map[string]string{"mode": "non-blocking", "max-buffer-size": "x"}, wantErr: "error parsing option max-buffer-size: invalid size: 'x'"},
		{name: "bad cache-disabled", opts: map[string]string{"cache-disabled": "maybe"}, wantErr: "invalid value for option cache-disabled: maybe"},
		{name: "bad size", opts: map[string]string{"max-size": "big"}, wantErr: "failed to initialize logging driver: invalid size: 'big'"},
		{name: "bad suffix", opts: map[string]string{"max-size": "10q"}, wantErr: "failed to initialize logging driver: invalid suffix: 'q'"},
		{name: "negative size", opts: map[string]string{"max-size": "-1"}, wantErr: "failed to initialize logging driver: invalid size: '-1'"},
		{name: "zero size", opts: map[string]string{"max-size": "0"}, wantErr: "failed to initialize logging driver: max-size must be a positive number"},
		{name: "zero files", opts: map[string]string{"max-size": "1k", "max-file": "0"}, wantErr: "failed to initialize logging driver: max-file cannot be less than 1"},
		{name: "bad files", opts: map[string]string{"max-file": "two"}, wantErr: `failed to initialize logging driver: strconv.Atoi: parsing "two": invalid syntax`},
		{name: "bad compress", opts: map[string]string{"compress": "yes please"}, wantErr: `failed to initialize logging driver: strconv.ParseBool: parsing "yes please": invalid syntax`},
		{name: "compress needs files", opts: map[string]string{"max-size": "1k", "compress": "true"}, wantErr: "failed to initialize logging driver: compress cannot be true when max-file is less than 2 or max-size is not set"},
		{name: "compress needs size", opts: map[string]string{"max-file": "3", "compress": "1"}, wantErr: "failed to initialize logging driver: compress cannot be true when max-file is less than 2 or max-size is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseLogConfig(containertypes.LogConfig{Type: tt.typ, Config: tt.opts})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if !errdefs.IsInvalidParameter(err) {
					t.Errorf("error %v is not InvalidParameter", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("policy %+v, want %+v", got, tt.want)
			}
		})
	}
}
