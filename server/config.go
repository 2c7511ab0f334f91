package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Config is the daemon configuration, from flags and daemon.json, with dockerd's names.
type Config struct {
	Hosts              []string `json:"hosts,omitempty"`
	DataRoot           string   `json:"data-root,omitempty"`
	ExecRoot           string   `json:"exec-root,omitempty"`
	LogLevel           string   `json:"log-level,omitempty"`
	TLS                bool     `json:"tls,omitempty"`
	TLSVerify          bool     `json:"tlsverify,omitempty"`
	TLSCACert          string   `json:"tlscacert,omitempty"`
	TLSCert            string   `json:"tlscert,omitempty"`
	TLSKey             string   `json:"tlskey,omitempty"`
	InsecureRegistries []string `json:"insecure-registries,omitempty"`
	Experimental       bool     `json:"experimental,omitempty"`
}

// Defaults of a shoald on its own.
const (
	DefaultHost     = "unix:///var/run/docker.sock"
	DefaultDataRoot = "/var/lib/shoal"
	DefaultExecRoot = "/var/run/shoal"
)

// MergeFile reads daemon.json at path into c. Directives given both as flags (setFlags, by their
// daemon.json names) and in the file are an error, as with dockerd. A missing file is not an error
// unless explicit.
func (c *Config) MergeFile(path string, explicit bool, setFlags map[string]bool) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return nil
	}
	if err != nil {
		return fmt.Errorf("unable to configure the Docker daemon with file %s: %w", path, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("unable to configure the Docker daemon with file %s: %w", path, err)
	}
	var conflicts []string
	for k, v := range raw {
		if setFlags[k] {
			conflicts = append(conflicts, fmt.Sprintf("%s: (from flag: %v, from file: %s)", k, c.flagValue(k), strings.TrimSpace(string(v))))
		}
	}
	if len(conflicts) > 0 {
		sort.Strings(conflicts)
		return fmt.Errorf("unable to configure the Docker daemon with file %s: the following directives are specified both as a flag and in the configuration file: %s", path, strings.Join(conflicts, ", "))
	}
	// flags and file set different directives, so the file's decode onto c sets exactly its own
	if err := json.Unmarshal(b, c); err != nil {
		return fmt.Errorf("unable to configure the Docker daemon with file %s: %w", path, err)
	}
	return nil
}

func (c *Config) flagValue(name string) any {
	switch name {
	case "hosts":
		return c.Hosts
	case "data-root":
		return c.DataRoot
	case "exec-root":
		return c.ExecRoot
	case "log-level":
		return c.LogLevel
	}
	return "set"
}
