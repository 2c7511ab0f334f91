package container

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/errdefs"
	"github.com/docker/go-units"
)

// Log drivers: Spec.LogConfig.Type is one of these ("" means json-file).
const (
	LogDriverJSONFile = "json-file"
	LogDriverLocal    = "local"
	LogDriverNone     = "none"
)

// errReadLogsNotSupported is dockerd's error for `docker logs` on a container whose log
// driver keeps nothing to read (errdefs.NotImplemented, HTTP 501).
var errReadLogsNotSupported = errdefs.NotImplemented(fmt.Errorf("configured logging driver does not support reading"))

// logPolicy is a checked LogConfig: what the Runtime does with a container's output.
type logPolicy struct {
	none     bool  // driver "none": the output is read and dropped
	maxSize  int64 // rotate before a write once the current file holds this many bytes; -1: never
	maxFiles int   // files kept, the current one included; at least 1
}

// jsonFileOpts are the options dockerd's json-file driver accepts. Only max-size and max-file
// change what the Runtime does; compress is checked and ignored (rotated files stay plain
// text); labels, env and tag are accepted and ignored (no "attrs" in the entries).
var jsonFileOpts = []string{"max-file", "max-size", "compress", "labels", "labels-regex", "env", "env-regex", "tag"}

// builtinLogOpts are accepted for every driver and dropped before the driver's own check: the
// delivery mode and the options of dockerd's read cache (which json-file never uses).
var builtinLogOpts = []string{"mode", "max-buffer-size", "cache-disabled", "cache-max-size", "cache-max-file", "cache-compress"}

// parseLogConfig checks a log configuration the way dockerd does: first as at container
// create (the driver must exist, options must be known: logger.ValidateLogOpts), then the
// option values as the json-file driver reads them when the container starts, with that
// error's "failed to initialize logging driver: " prefix. Both are errdefs.InvalidParameter.
func parseLogConfig(cfg containertypes.LogConfig) (logPolicy, error) {
	if cfg.Type == LogDriverNone {
		return logPolicy{none: true, maxSize: -1, maxFiles: 1}, nil // dockerd checks nothing for none
	}
	opts := cfg.Config
	switch mode := containertypes.LogMode(opts["mode"]); mode {
	case containertypes.LogModeBlocking, containertypes.LogModeNonBlock, containertypes.LogModeUnset:
	default:
		return logPolicy{}, invalidf("logger: logging mode not supported: %s", mode)
	}
	if s, ok := opts["max-buffer-size"]; ok {
		if containertypes.LogMode(opts["mode"]) != containertypes.LogModeNonBlock {
			return logPolicy{}, invalidf("logger: max-buffer-size option is only supported with 'mode=%s'", containertypes.LogModeNonBlock)
		}
		if _, err := units.RAMInBytes(s); err != nil {
			return logPolicy{}, invalidf("error parsing option max-buffer-size: %v", err)
		}
	}
	if v := opts["cache-disabled"]; v != "" {
		if _, err := strconv.ParseBool(v); err != nil {
			return logPolicy{}, invalidf("invalid value for option cache-disabled: %s", v)
		}
	}
	if cfg.Type == LogDriverLocal {
		return parseLocalLogConfig(opts)
	}
	if cfg.Type != "" && cfg.Type != LogDriverJSONFile {
		return logPolicy{}, invalidf("logger: no log driver named '%s' is registered", cfg.Type)
	}
	if k, ok := unknownLogOpt(opts, jsonFileOpts); ok {
		return logPolicy{}, invalidf("unknown log opt '%s' for json-file log driver", k)
	}

	p := logPolicy{maxSize: -1, maxFiles: 1}
	initErr := func(format string, args ...any) (logPolicy, error) {
		return logPolicy{}, invalidf("failed to initialize logging driver: "+format, args...)
	}
	if s, ok := opts["max-size"]; ok {
		n, err := units.FromHumanSize(s)
		if err != nil {
			return initErr("%v", err)
		}
		if n <= 0 {
			return initErr("max-size must be a positive number")
		}
		p.maxSize = n
	}
	if s, ok := opts["max-file"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil {
			return initErr("%v", err)
		}
		if n < 1 {
			return initErr("max-file cannot be less than 1")
		}
		p.maxFiles = n
	}
	if s, ok := opts["compress"]; ok {
		compress, err := strconv.ParseBool(s)
		if err != nil {
			return initErr("%v", err)
		}
		if compress && (p.maxFiles == 1 || p.maxSize == -1) {
			return initErr("compress cannot be true when max-file is less than 2 or max-size is not set")
		}
	}
	return p, nil
}

// localLogOpts are the options of dockerd's local driver.
var localLogOpts = []string{"max-file", "max-size", "compress"}

// parseLocalLogConfig checks the options of the local driver as dockerd does. Its defaults
// (20 MB files, 5 of them) make its policy; its logs are kept in the json-file format rather than
// dockerd's binary one, which only dockerd itself reads.
func parseLocalLogConfig(opts map[string]string) (logPolicy, error) {
	if k, ok := unknownLogOpt(opts, localLogOpts); ok {
		return logPolicy{}, invalidf("unknown log opt '%s' for log driver %s", k, LogDriverLocal)
	}
	p := logPolicy{maxSize: 20 * 1024 * 1024, maxFiles: 5}
	compress := true
	if s, ok := opts["max-size"]; ok {
		n, err := units.FromHumanSize(s)
		if err != nil {
			return logPolicy{}, invalidf("failed to initialize logging driver: invalid value for max-size: %s: %v", s, err)
		}
		p.maxSize = n
	}
	if s, ok := opts["max-file"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil {
			return logPolicy{}, invalidf("failed to initialize logging driver: invalid value for max-file: %s: %v", s, err)
		}
		p.maxFiles = n
	}
	if s, ok := opts["compress"]; ok {
		c, err := strconv.ParseBool(s)
		if err != nil {
			return logPolicy{}, invalidf("failed to initialize logging driver: error reading compress log option: %v", err)
		}
		compress = c
	}
	switch {
	case p.maxSize < 0:
		return logPolicy{}, invalidf("failed to initialize logging driver: max size should be a positive number")
	case p.maxFiles < 0:
		return logPolicy{}, invalidf("failed to initialize logging driver: max file count cannot be less than 0")
	case compress && p.maxFiles <= 1:
		return logPolicy{}, invalidf("failed to initialize logging driver: compression cannot be enabled when max file count is 1")
	}
	if p.maxSize == 0 {
		p.maxSize = -1 // 0: no limit
	}
	if p.maxFiles == 0 {
		p.maxFiles = 1
	}
	return p, nil
}

// unknownLogOpt returns the first option, in name order as dockerd reports it, that is neither one
// of the driver's own nor one every driver takes.
func unknownLogOpt(opts map[string]string, driverOpts []string) (string, bool) {
	for _, k := range slices.Sorted(maps.Keys(opts)) {
		if !slices.Contains(driverOpts, k) && !slices.Contains(builtinLogOpts, k) {
			return k, true
		}
	}
	return "", false
}
