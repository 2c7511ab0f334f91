package build

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
)

// ModulePath is the import path of this repository's module.
const ModulePath = "github.com/shoal-project/shoal"

// CompileGo builds the given main packages (import paths) as static linux
// binaries (CGO_ENABLED=0, -trimpath, stripped) and returns their contents
// keyed by the last element of each import path. It runs `go build` in the
// current directory, which must be inside this module (as a test's is).
func CompileGo(ctx context.Context, pkgs ...string) (map[string][]byte, error) {
	dir, err := os.MkdirTemp("", "shoal-testimages-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	args := append([]string{"build", "-trimpath", "-ldflags=-s -w", "-o", dir + string(filepath.Separator)}, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("build: go build %s: %w\n%s", strings.Join(pkgs, " "), err, stderr.String())
	}
	out := make(map[string][]byte, len(pkgs))
	for _, p := range pkgs {
		base := path.Base(p)
		data, err := os.ReadFile(filepath.Join(dir, base))
		if err != nil {
			return nil, fmt.Errorf("build: %w", err)
		}
		out[base] = data
	}
	return out, nil
}
