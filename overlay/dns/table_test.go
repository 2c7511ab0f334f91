package dns

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/shoal-project/shoal/swarm/netview"
)

// testView: networks front (n1) and back (n2) attached, other (n3) not, ingress (n0) attached.
func testView() netview.NodeView {
	return netview.NodeView{Networks: []netview.Network{
		{ID: "n0", Name: "ingress", Ingress: true,
			Endpoints: []netview.Endpoint{{TaskID: "t9", ServiceID: "s9", IP: "10.0.0.5", Names: []string{"pub.1.t9", "t9"}, Running: true}},
			Services:  []netview.Service{{ID: "s9", Name: "onlyingress", VIP: "10.0.0.2"}},
		},
		{ID: "n1", Name: "front",
			Endpoints: []netview.Endpoint{
				{TaskID: "t1", ServiceID: "sweb", IP: "10.0.1.5", Names: []string{"web.1.t1", "t1", "www"}, Running: true},
				{TaskID: "t2", ServiceID: "sweb", IP: "10.0.1.6", Names: []string{"web.2.t2", "t2", "www"}, Running: true},
				{TaskID: "t3", ServiceID: "sweb", IP: "10.0.1.7", Names: []string{"web.3.t3", "t3", "www"}},
				{TaskID: "t4", ServiceID: "sdb", IP: "10.0.1.8", Names: []string{"Db.1.t4", "t4"}, Running: true},
			},
			Services: []netview.Service{
				{ID: "sdb", Name: "db", Aliases: []string{"database"}},
				{ID: "sempty", Name: "empty"},
				{ID: "sshared", Name: "shared", VIP: "10.0.1.9"},
				{ID: "sweb", Name: "web", VIP: "10.0.1.2", Aliases: []string{"www"}},
			},
		},
		{ID: "n2", Name: "back",
			Endpoints: []netview.Endpoint{{TaskID: "t5", ServiceID: "sapi", IP: "10.0.2.5", Names: []string{"api.1.t5", "t5"}, Running: true}},
			Services: []netview.Service{
				{ID: "sapi", Name: "api", VIP: "10.0.2.2"},
				{ID: "sshared", Name: "shared", VIP: "10.0.2.9"},
			},
		},
		{ID: "n3", Name: "other",
			Endpoints: []netview.Endpoint{{TaskID: "t6", ServiceID: "ssecret", IP: "10.0.3.5", Names: []string{"secret.1.t6", "t6"}, Running: true}},
			Services:  []netview.Service{{ID: "ssecret", Name: "secret", VIP: "10.0.3.2"}},
		},
	}}
}

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

func TestTableLookup(t *testing.T) {
	attached := []string{"n0", "n1", "n2", "nope"}
	tests := []struct {
		name     string
		networks []string
		query    string
		want     []netip.Addr
		ours     bool
	}{
		{"vip service", attached, "web", addrs("10.0.1.2"), true},
		{"upper case", attached, "WeB", addrs("10.0.1.2"), true},
		{"trailing dot", attached, "web.", addrs("10.0.1.2"), true},
		{"tasks of vip service: running only", attached, "tasks.web", addrs("10.0.1.5", "10.0.1.6"), true},
		{"service alias: vip and task addresses", attached, "www", addrs("10.0.1.2", "10.0.1.5", "10.0.1.6"), true},
		{"tasks of service alias", attached, "tasks.www", addrs("10.0.1.5", "10.0.1.6"), true},
		{"dnsrr service", attached, "db", addrs("10.0.1.8"), true},
		{"dnsrr alias", attached, "DATABASE.", addrs("10.0.1.8"), true},
		{"tasks of dnsrr service", attached, "tasks.db", addrs("10.0.1.8"), true},
		{"dnsrr without running task", attached, "empty", nil, true},
		{"tasks of service without running task", attached, "tasks.empty", nil, true},
		{"container name", attached, "web.1.t1", addrs("10.0.1.5"), true},
		{"container name case", attached, "db.1.T4", addrs("10.0.1.8"), true},
		{"task id", attached, "t2", addrs("10.0.1.6"), true},
		{"task not running", attached, "web.3.t3", nil, false},
		{"second network", attached, "api", addrs("10.0.2.2"), true},
		{"second network task", attached, "api.1.t5", addrs("10.0.2.5"), true},
		{"first network wins", attached, "shared", addrs("10.0.1.9"), true},
		{"first network wins, other order", []string{"n2", "n1"}, "shared", addrs("10.0.2.9"), true},
		{"qualified by network", attached, "shared.back", addrs("10.0.2.9"), true},
		{"qualified by network case", attached, "Web.FRONT.", addrs("10.0.1.2"), true},
		{"tasks qualified by network", attached, "tasks.web.front", addrs("10.0.1.5", "10.0.1.6"), true},
		{"qualified by the wrong network", attached, "web.back", nil, false},
		{"network not attached", attached, "secret", nil, false},
		{"task of network not attached", attached, "secret.1.t6", nil, false},
		{"qualified by network not attached", attached, "secret.other", nil, false},
		{"ingress carries no names", attached, "onlyingress", nil, false},
		{"ingress task carries no names", attached, "pub.1.t9", nil, false},
		{"no network", nil, "web", nil, false},
		{"not ours", attached, "example.com", nil, false},
		{"tasks. alone", attached, "tasks.", nil, false},
		{"empty", attached, "", nil, false},
	}
	v := testView()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ours := NewTable(v, tc.networks).Lookup(tc.query)
			if ours != tc.ours || !slices.Equal(got, tc.want) {
				t.Errorf("Lookup(%q) = %v, %v; want %v, %v", tc.query, got, ours, tc.want, tc.ours)
			}
		})
	}
}

func TestTableLookupReturnsCopy(t *testing.T) {
	tab := NewTable(testView(), []string{"n1"})
	got, _ := tab.Lookup("tasks.web")
	got[0] = netip.MustParseAddr("1.2.3.4")
	if again, _ := tab.Lookup("tasks.web"); !slices.Equal(again, addrs("10.0.1.5", "10.0.1.6")) {
		t.Fatalf("the table changed through a returned slice: %v", again)
	}
}

func TestTableReverse(t *testing.T) {
	attached := []string{"n0", "n1", "n2"}
	tests := []struct {
		name string
		ip   string
		want []string
		ours bool
	}{
		{"running task", "10.0.1.5", []string{"web.1.t1.front"}, true},
		{"name as given", "10.0.1.8", []string{"Db.1.t4.front"}, true},
		{"second network", "10.0.2.5", []string{"api.1.t5.back"}, true},
		{"ipv4-mapped", "::ffff:10.0.1.6", []string{"web.2.t2.front"}, true},
		{"vip is not ours (Docker)", "10.0.1.2", nil, false},
		{"task not running", "10.0.1.7", nil, false},
		{"network not attached", "10.0.3.5", nil, false},
		{"ingress", "10.0.0.5", nil, false},
		{"elsewhere", "192.0.2.1", nil, false},
	}
	tab := NewTable(testView(), attached)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ours := tab.Reverse(netip.MustParseAddr(tc.ip))
			if ours != tc.ours || !slices.Equal(got, tc.want) {
				t.Errorf("Reverse(%s) = %v, %v; want %v, %v", tc.ip, got, ours, tc.want, tc.ours)
			}
		})
	}
}

func TestNilTable(t *testing.T) {
	var tab *Table
	if ips, ours := tab.Lookup("web"); ours || ips != nil {
		t.Errorf("nil table Lookup = %v, %v", ips, ours)
	}
	if names, ours := tab.Reverse(netip.MustParseAddr("10.0.1.5")); ours || names != nil {
		t.Errorf("nil table Reverse = %v, %v", names, ours)
	}
}
