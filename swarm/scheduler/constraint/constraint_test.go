package constraint

import (
	"testing"

	"github.com/docker/docker/api/types/swarm"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		expr, err string
	}{
		{"node.role", "constraint expected one operator from ==, !="},
		{"node.role>manager", "constraint expected one operator from ==, !="},
		{"no de==x", "key 'no de' is invalid"},
		{"node.role==<x>", "value '<x>' is invalid"},
	}
	for _, tt := range tests {
		_, err := Parse([]string{tt.expr})
		if err == nil || err.Error() != tt.err {
			t.Errorf("Parse(%q) error = %v, want %q", tt.expr, err, tt.err)
		}
	}
	cs, err := Parse([]string{" node.role == manager ", "node.labels.zone!=east"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Constraint{{"node.role", Equal, "manager"}, {"node.labels.zone", NotEqual, "east"}}
	for i := range want {
		if cs[i] != want[i] {
			t.Errorf("constraint %d = %+v, want %+v", i, cs[i], want[i])
		}
	}
}

func TestNodeMatches(t *testing.T) {
	n := &swarm.Node{ID: "node1"}
	n.Spec.Role = swarm.NodeRoleManager
	n.Spec.Labels = map[string]string{"zone": "East", "Disk": "ssd"}
	n.Description.Hostname = "host-a"
	n.Description.Platform = swarm.Platform{OS: "linux", Architecture: "x86_64"}
	n.Description.Engine.Labels = map[string]string{"gpu": "yes"}
	n.Status.Addr = "192.168.1.7"

	tests := []struct {
		exprs []string
		want  bool
	}{
		{nil, true},
		{[]string{"node.id==node1"}, true},
		{[]string{"node.id!=node1"}, false},
		{[]string{"node.hostname==HOST-A"}, true},
		{[]string{"node.role==manager"}, true},
		{[]string{"node.role==worker"}, false},
		{[]string{"node.role!=worker"}, true},
		{[]string{"node.labels.zone==east"}, true},  // values compare case-insensitively
		{[]string{"node.labels.ZONE==east"}, false}, // label names are case-sensitive
		{[]string{"node.labels.missing!=x"}, true},  // a missing label is ""
		{[]string{"node.labels.missing==x"}, false},
		{[]string{"engine.labels.gpu==yes"}, true},
		{[]string{"node.platform.os==linux", "node.platform.arch==x86_64"}, true},
		{[]string{"node.platform.os==windows"}, false},
		{[]string{"node.ip==192.168.1.0/24"}, true},
		{[]string{"node.ip==10.0.0.0/8"}, false},
		{[]string{"node.ip!=192.168.1.7"}, false},
		{[]string{"node.unknown==x"}, false},
		{[]string{"node.role==manager", "node.labels.Disk==hdd"}, false},
		{[]string{"bad"}, false},
	}
	for _, tt := range tests {
		if got := NodeMatches(tt.exprs, n); got != tt.want {
			t.Errorf("NodeMatches(%q) = %v, want %v", tt.exprs, got, tt.want)
		}
	}
}
