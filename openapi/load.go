package openapi

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
)

// dockerModule is the module whose api/swagger.yaml is the contract.
const dockerModule = "github.com/docker/docker"

// SwaggerEnv names an environment variable that, when set, gives the path of
// the swagger file to use instead of the one in the module cache.
const SwaggerEnv = "SHOAL_SWAGGER"

var (
	loadOnce     sync.Once
	loadContract *Contract
	loadErr      error
)

// Load reads the Engine API swagger of the pinned docker module, converts it
// to OpenAPI 3 and prepares it for checks. The result is cached for the life
// of the process; a Contract is immutable and safe for concurrent use.
func Load() (*Contract, error) {
	loadOnce.Do(func() {
		path, err := SwaggerPath()
		if err != nil {
			loadErr = err
			return
		}
		loadContract, loadErr = LoadFile(path)
	})
	return loadContract, loadErr
}

// LoadFile reads a Swagger 2.0 document from path and prepares it for checks.
func LoadFile(path string) (*Contract, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("openapi: read swagger: %w", err)
	}
	var doc2 openapi2.T
	if err := openapi2.UnmarshalFromData(data, &doc2); err != nil {
		return nil, fmt.Errorf("openapi: parse swagger %s: %w", path, err)
	}
	doc3, err := openapi2conv.ToV3(&doc2)
	if err != nil {
		return nil, fmt.Errorf("openapi: convert swagger to OpenAPI 3: %w", err)
	}
	relaxSwagger(doc3)
	return newContract(doc3, doc2.Info.Version)
}

// SwaggerPath locates api/swagger.yaml of the docker module this repository
// pins: $SHOAL_SWAGGER if set, else the module's directory as reported by
// `go list -m` (run in the current directory, which must be inside the module).
func SwaggerPath() (string, error) {
	if p := os.Getenv(SwaggerEnv); p != "" {
		return p, nil
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", dockerModule)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("openapi: go list -m %s: %w: %s", dockerModule, err, strings.TrimSpace(stderr.String()))
	}
	dir := strings.TrimSpace(stdout.String())
	if dir == "" {
		return "", errors.New("openapi: go list gave no directory for " + dockerModule + " (run `go mod download`)")
	}
	path := filepath.Join(dir, "api", "swagger.yaml")
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("openapi: %w", err)
	}
	return path, nil
}

// schemaOf returns the named schema of the converted document, or nil.
func schemaOf(doc *openapi3.T, name string) *openapi3.SchemaRef {
	if doc.Components == nil {
		return nil
	}
	return doc.Components.Schemas[name]
}
