package harness

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// ShoaldEnv names the environment variable giving a prebuilt shoald binary.
const ShoaldEnv = "SHOALD_BIN"

// BuildTags are the build tags shoald is built with (libcontainer seccomp).
const BuildTags = "seccomp"

var shoald struct {
	once sync.Once
	path string
	err  error
}

// ShoaldBinary returns the shoald binary tests run: $SHOALD_BIN when set,
// else one built from ./cmd/shoald of this module (CGO on, -tags seccomp)
// once per test binary into $TMPDIR/shoal-harness/shoald. The build goes to
// a temporary name first, so test binaries building at once do not clash.
func ShoaldBinary() (string, error) {
	shoald.once.Do(func() {
		if p := os.Getenv(ShoaldEnv); p != "" {
			shoald.path, shoald.err = filepath.Abs(p)
			if _, err := os.Stat(shoald.path); err != nil && shoald.err == nil {
				shoald.err = fmt.Errorf("harness: %s=%s: %w", ShoaldEnv, p, err)
			}
			return
		}
		shoald.path, shoald.err = buildShoald()
	})
	return shoald.path, shoald.err
}

func buildShoald() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(os.TempDir(), "shoal-harness")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, "shoald-*.tmp")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.Command("go", "build", "-tags", BuildTags, "-o", tmp.Name(), "./cmd/shoald")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("harness: go build ./cmd/shoald: %w\n%s", err, out.String())
	}
	final := filepath.Join(dir, "shoald")
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", err
	}
	return final, nil
}

// moduleRoot is the directory of this repository's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("harness: go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("harness: not inside the shoal module (go env GOMOD is %q)", gomod)
	}
	return filepath.Dir(gomod), nil
}
