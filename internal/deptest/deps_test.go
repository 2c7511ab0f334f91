package deptest

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/shoal-project/shoal/"

// rules: a package (prefix) must not import any package with one of these prefixes, and why.
var rules = []struct {
	pkg    string
	banned []string
	why    string
}{
	{module + "swarm/", []string{module + "server", module + "cmd/"}, "server is the composition root; only cmd/shoald imports it"},
	{module + "runtime/", []string{module + "server", module + "cmd/"}, "server is the composition root; only cmd/shoald imports it"},
	{module + "routes", []string{module + "server", module + "cmd/"}, "server is the composition root; only cmd/shoald imports it"},
	{module + "routes", []string{module + "swarm/", module + "runtime/", module + "events"}, "routes sees only the backends it declares"},
	{module + "swarm/store", []string{module + "swarm/raft"}, "the store knows nothing of Raft; Raft sits behind the Proposer"},
	{module + "swarm/agent", []string{module + "swarm/store", module + "swarm/raft", module + "swarm/control",
		module + "swarm/orchestrator", module + "swarm/allocator", module + "swarm/scheduler", module + "swarm/dispatcher",
		module + "swarm/node"}, "the agent never imports manager packages"},
	{module + "overlay", []string{module + "swarm/store", module + "swarm/raft", module + "swarm/control",
		module + "swarm/orchestrator", module + "swarm/allocator", module + "swarm/scheduler", module + "swarm/dispatcher",
		module + "swarm/node", module + "swarm/agent", module + "runtime/", module + "routes", module + "server"},
		"the data plane knows only the network view (swarm/netview) and the kernel"},
	{module + "runtime/", []string{module + "swarm/store", module + "swarm/raft", module + "swarm/control", module + "routes"}, "the runtime serves the agent, not the manager"},
}

func TestDependencyRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		pkg, deps := fields[0], fields[1:]
		for _, r := range rules {
			if !strings.HasPrefix(pkg, r.pkg) {
				continue
			}
			checked++
			for _, d := range deps {
				for _, b := range r.banned {
					if strings.HasPrefix(d, b) && !strings.HasPrefix(pkg, strings.TrimSuffix(b, "/")) {
						t.Errorf("%s imports %s: %s", pkg, d, r.why)
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no package was checked")
	}
}

func TestEveryPackageHasADocComment(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}|{{.Doc}}|{{.Name}}`, module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.SplitN(line, "|", 3)
		if len(parts) == 3 && parts[1] == "" {
			t.Errorf("package %s has no doc comment", parts[0])
		}
	}
}
