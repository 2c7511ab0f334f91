package template

import (
	"errors"
	"fmt"
	"strings"
	"text/template"

	"github.com/docker/docker/api/types/swarm"
)

// DriverGolang is the one template driver Docker knows (--template-driver golang).
const DriverGolang = "golang"

// ErrUnrecognizedDriver is the error for a secret or config whose template driver is not golang.
var ErrUnrecognizedDriver = errors.New("unrecognized template type")

// Payload is what a secret or config template may read besides its Context: the task's container
// env (after ExpandContainerSpec), and the raw data of the task's secrets and configs by the name of
// their file target (the first reference with that name counts).
type Payload struct {
	Env     []string
	Secrets map[string][]byte
	Configs map[string][]byte
}

// PayloadContext is what a secret or config template runs on: the Context, and through the
// functions env, secret and config, the Payload. Like Context, it has no methods a template could
// call.
type PayloadContext struct {
	Context

	p Payload
}

// ExpandPayload expands the data of a secret or config by its template driver: none keeps the
// data as it is, golang expands it, any other is ErrUnrecognizedDriver.
func ExpandPayload(driver *swarm.Driver, data []byte, c *Context, p Payload) ([]byte, error) {
	if driver == nil {
		return data, nil
	}
	if driver.Name != DriverGolang {
		return data, ErrUnrecognizedDriver
	}
	pc := &PayloadContext{Context: *c, p: p}
	out, err := execute(string(data), pc, template.FuncMap{
		"secret": func(target string) (string, error) { return lookup("secret", pc.p.Secrets, target) },
		"config": func(target string) (string, error) { return lookup("config", pc.p.Configs, target) },
		"env":    pc.env,
	})
	if err != nil {
		return data, err
	}
	return []byte(out), nil
}

// lookup is the data of the secret or config (kind) whose file target is target.
func lookup(kind string, by map[string][]byte, target string) (string, error) {
	d, ok := by[target]
	if !ok {
		return "", fmt.Errorf("%s target %s not found", kind, target)
	}
	return string(d), nil
}

// env is the value of a variable in the container spec's env; "" if it has none.
func (pc *PayloadContext) env(name string) (string, error) {
	for _, e := range pc.p.Env {
		if n, v, ok := strings.Cut(e, "="); ok && n == name {
			return v, nil
		}
	}
	return "", nil
}
