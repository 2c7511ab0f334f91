package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMergeFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "daemon.json")
	os.WriteFile(path, []byte(`{"data-root": "/srv/shoal", "insecure-registries": ["10.1.1.1:5000"], "hosts": ["unix:///tmp/x.sock"]}`), 0o600)

	c := Config{ExecRoot: "/run/x", LogLevel: "debug"}
	if err := c.MergeFile(path, true, map[string]bool{"exec-root": true, "log-level": true}); err != nil {
		t.Fatal(err)
	}
	if c.DataRoot != "/srv/shoal" || c.ExecRoot != "/run/x" || c.LogLevel != "debug" || len(c.Hosts) != 1 || c.InsecureRegistries[0] != "10.1.1.1:5000" {
		t.Fatalf("merged %+v", c)
	}

	c = Config{DataRoot: "/flag"}
	err := c.MergeFile(path, true, map[string]bool{"data-root": true})
	if err == nil || !strings.Contains(err.Error(), "the following directives are specified both as a flag and in the configuration file: data-root: (from flag: /flag, from file: \"/srv/shoal\")") {
		t.Fatalf("conflict: %v", err)
	}
	if err := (&Config{}).MergeFile(filepath.Join(dir, "none.json"), false, nil); err != nil {
		t.Fatalf("a missing default file is not an error: %v", err)
	}
	if err := (&Config{}).MergeFile(filepath.Join(dir, "none.json"), true, nil); err == nil {
		t.Fatal("a missing explicit file is an error")
	}
}
