package executor

import (
	"reflect"
	"testing"

	"github.com/docker/docker/api/types/swarm"
)

func TestEndpoints(t *testing.T) {
	front := swarm.Network{ID: "n1"}
	front.Spec.Name = "front"
	host := swarm.Network{ID: "h"}
	host.Spec.Name = "host"
	host.Spec.Labels = map[string]string{"com.docker.swarm.predefined": "true"}
	task := swarm.Task{ID: "t1", NetworksAttachments: []swarm.NetworkAttachment{
		{Network: host}, {Network: front, Addresses: []string{"10.0.1.5/24"}}}}
	task.Spec.Networks = []swarm.NetworkAttachmentConfig{{Target: "FRONT", Aliases: []string{"www"}}}

	got := endpoints(task, "web.1.t1", "0123456789abcdef")
	if len(got) != 1 {
		t.Fatalf("endpoints %+v, want front only", got)
	}
	e := got[0]
	if e.Name != "front" || e.NetworkID != "n1" || e.Address != "10.0.1.5/24" || e.MacAddress != "02:42:0a:00:01:05" ||
		len(e.EndpointID) != 64 || !reflect.DeepEqual(e.Aliases, []string{"www"}) ||
		!reflect.DeepEqual(e.DNSNames, []string{"web.1.t1", "0123456789ab", "www"}) {
		t.Errorf("endpoint %+v", e)
	}
	if again := endpoints(task, "web.1.t1", "0123456789abcdef"); again[0].EndpointID != e.EndpointID {
		t.Error("the endpoint ID is not stable")
	}
}

func TestEmbeddedDNS(t *testing.T) {
	got := embeddedDNS(swarm.DNSConfig{Nameservers: []string{"9.9.9.9"}, Search: []string{"corp"}, Options: []string{"timeout:2"}})
	want := swarm.DNSConfig{Nameservers: []string{"127.0.0.11"}, Search: []string{"corp"}, Options: []string{"timeout:2", "ndots:0"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got := embeddedDNS(swarm.DNSConfig{Options: []string{"ndots:3"}}); !reflect.DeepEqual(got.Options, []string{"ndots:3"}) {
		t.Errorf("the spec's ndots replaced: %v", got.Options)
	}
	if got := dnsUpstream(&swarm.DNSConfig{Nameservers: []string{"9.9.9.9", "2001:db8::1"}}); !reflect.DeepEqual(got, []string{"9.9.9.9:53", "[2001:db8::1]:53"}) {
		t.Errorf("upstream %v", got)
	}
}
