package control

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/store"
)

func TestCreateServiceRefusals(t *testing.T) {
	dur := func(d time.Duration) *time.Duration { return &d }
	tests := []struct {
		name   string
		edit   func(s *swarm.ServiceSpec)
		status int
		text   string
	}{
		{"empty body", func(s *swarm.ServiceSpec) { *s = swarm.ServiceSpec{} },
			400, "mismatched Runtime and *Spec fields"},
		{"attachment runtime", func(s *swarm.ServiceSpec) { s.TaskTemplate.Runtime = swarm.RuntimeNetworkAttachment },
			400, "unsupported runtime"},
		{"no image", func(s *swarm.ServiceSpec) { s.TaskTemplate.ContainerSpec.Image = "" },
			400, "rpc error: code = InvalidArgument desc = ContainerSpec: image reference must be provided"},
		{"bad image", func(s *swarm.ServiceSpec) { s.TaskTemplate.ContainerSpec.Image = "Bad:Image:x" },
			400, `rpc error: code = InvalidArgument desc = ContainerSpec: "Bad:Image:x" is not a valid repository/tag`},
		{"name not DNS", func(s *swarm.ServiceSpec) { s.Name = "web.1" },
			400, "rpc error: code = InvalidArgument desc = name must be valid as a DNS name component"},
		{"name too long", func(s *swarm.ServiceSpec) { s.Name = strings.Repeat("a", 64) },
			400, "rpc error: code = InvalidArgument desc = name must be 63 characters or fewer"},
		{"two modes", func(s *swarm.ServiceSpec) {
			s.Mode = swarm.ServiceMode{Global: &swarm.GlobalService{}, Replicated: &swarm.ReplicatedService{}}
		}, 400, "must specify only one service mode"},
		{"duplicate mount", func(s *swarm.ServiceSpec) {
			s.TaskTemplate.ContainerSpec.Mounts = []mount.Mount{{Type: "tmpfs", Target: "/x"}, {Type: "tmpfs", Target: "/x"}}
		}, 400, "rpc error: code = InvalidArgument desc = ContainerSpec: duplicate mount point: /x"},
		{"bad mount type", func(s *swarm.ServiceSpec) {
			s.TaskTemplate.ContainerSpec.Mounts = []mount.Mount{{Type: "nfs", Target: "/x"}}
		}, 400, `invalid MountType: "nfs"`},
		{"duplicate published port", func(s *swarm.ServiceSpec) {
			s.EndpointSpec = &swarm.EndpointSpec{Ports: []swarm.PortConfig{
				{TargetPort: 80, PublishedPort: 8080, PublishMode: "host"}, {TargetPort: 81, PublishedPort: 8080, PublishMode: "host"}}}
		}, 400, "rpc error: code = InvalidArgument desc = EndpointSpec: duplicate published ports provided"},
		{"ingress port with dnsrr", func(s *swarm.ServiceSpec) {
			s.EndpointSpec = &swarm.EndpointSpec{Mode: "dnsrr", Ports: []swarm.PortConfig{{TargetPort: 80, PublishedPort: 8080}}}
		}, 400, "rpc error: code = InvalidArgument desc = EndpointSpec: port published with ingress mode can't be used with dnsrr mode"},
		{"bad resolution mode", func(s *swarm.ServiceSpec) { s.EndpointSpec = &swarm.EndpointSpec{Mode: "rr"} },
			400, `invalid resolution mode: "rr"`},
		{"negative restart delay", func(s *swarm.ServiceSpec) {
			s.TaskTemplate.RestartPolicy = &swarm.RestartPolicy{Delay: dur(-time.Second)}
		}, 400, "rpc error: code = InvalidArgument desc = TaskSpec: restart-delay cannot be negative"},
		{"negative restart window", func(s *swarm.ServiceSpec) {
			s.TaskTemplate.RestartPolicy = &swarm.RestartPolicy{Window: dur(-time.Second)}
		}, 400, "rpc error: code = InvalidArgument desc = TaskSpec: restart-window cannot be negative"},
		{"bad restart condition", func(s *swarm.ServiceSpec) {
			s.TaskTemplate.RestartPolicy = &swarm.RestartPolicy{Condition: "sometimes"}
		}, 400, `invalid RestartCondition: "sometimes"`},
		{"negative update delay", func(s *swarm.ServiceSpec) { s.UpdateConfig = &swarm.UpdateConfig{Delay: -1} },
			400, "rpc error: code = InvalidArgument desc = TaskSpec: update-delay cannot be negative"},
		{"negative update monitor", func(s *swarm.ServiceSpec) { s.UpdateConfig = &swarm.UpdateConfig{Monitor: -1} },
			400, "rpc error: code = InvalidArgument desc = TaskSpec: update-monitor cannot be negative"},
		{"failure ratio", func(s *swarm.ServiceSpec) { s.UpdateConfig = &swarm.UpdateConfig{MaxFailureRatio: 1.5} },
			400, "rpc error: code = InvalidArgument desc = TaskSpec: update-maxfailureratio cannot be less than 0 or bigger than 1"},
		{"bad failure action", func(s *swarm.ServiceSpec) { s.UpdateConfig = &swarm.UpdateConfig{FailureAction: "explode"} },
			400, "unrecognized update failure action explode"},
		{"bad order", func(s *swarm.ServiceSpec) { s.RollbackConfig = &swarm.UpdateConfig{Order: "random"} },
			400, "unrecognized update order random"},
		{"job with update config", func(s *swarm.ServiceSpec) {
			s.Mode = swarm.ServiceMode{ReplicatedJob: &swarm.ReplicatedJob{}}
			s.UpdateConfig = &swarm.UpdateConfig{}
		}, 400, "rpc error: code = InvalidArgument desc = Jobs may not have an update config"},
		{"healthcheck interval", func(s *swarm.ServiceSpec) {
			s.TaskTemplate.ContainerSpec.Healthcheck = &container.HealthConfig{Interval: time.Microsecond}
		}, 400, "rpc error: code = InvalidArgument desc = ContainerSpec: Interval in HealthConfig cannot be less than 1ms"},
		{"healthcheck timeout", func(s *swarm.ServiceSpec) {
			s.TaskTemplate.ContainerSpec.Healthcheck = &container.HealthConfig{Timeout: -time.Second}
		}, 400, "rpc error: code = InvalidArgument desc = ContainerSpec: Timeout in HealthConfig cannot be less than 1ms"},
		{"healthcheck retries", func(s *swarm.ServiceSpec) {
			s.TaskTemplate.ContainerSpec.Healthcheck = &container.HealthConfig{Retries: -1}
		}, 400, "rpc error: code = InvalidArgument desc = ContainerSpec: Retries in HealthConfig cannot be negative"},
		{"cpu limit", func(s *swarm.ServiceSpec) {
			s.TaskTemplate.Resources = &swarm.ResourceRequirements{Limits: &swarm.Limit{NanoCPUs: 1000}}
		}, 400, "rpc error: code = InvalidArgument desc = invalid cpu value 1e-06: Must be at least 0.001"},
		{"memory reservation", func(s *swarm.ServiceSpec) {
			s.TaskTemplate.Resources = &swarm.ResourceRequirements{Reservations: &swarm.Resources{MemoryBytes: 1 << 20}}
		}, 400, "rpc error: code = InvalidArgument desc = invalid memory value 1048576: Must be at least 4MiB"},
		{"constraint", func(s *swarm.ServiceSpec) {
			s.TaskTemplate.Placement = &swarm.Placement{Constraints: []string{"node.role=manager"}}
		}, 500, "rpc error: code = Unknown desc = constraint expected one operator from ==, !="},
		{"unknown network", func(s *swarm.ServiceSpec) {
			s.TaskTemplate.Networks = []swarm.NetworkAttachmentConfig{{Target: "nope"}}
		}, 404, "network nope not found"},
		{"unknown secret", func(s *swarm.ServiceSpec) {
			s.TaskTemplate.ContainerSpec.Secrets = []*swarm.SecretReference{{SecretID: "x", SecretName: "pw",
				File: &swarm.SecretReferenceFileTarget{Name: "pw"}}}
		}, 400, "rpc error: code = InvalidArgument desc = secret not found: pw"},
		{"secret without target", func(s *swarm.ServiceSpec) {
			s.TaskTemplate.ContainerSpec.Secrets = []*swarm.SecretReference{{SecretID: "x", SecretName: "pw"}}
		}, 400, "rpc error: code = InvalidArgument desc = malformed secret reference, no target provided"},
		{"config conflicting targets", func(s *swarm.ServiceSpec) {
			f := &swarm.ConfigReferenceFileTarget{Name: "/c"}
			s.TaskTemplate.ContainerSpec.Configs = []*swarm.ConfigReference{
				{ConfigID: "a", ConfigName: "ca", File: f}, {ConfigID: "b", ConfigName: "cb", File: f}}
		}, 400, "rpc error: code = InvalidArgument desc = config references 'ca' and 'cb' have a conflicting target: '/c'"},
		{"config without target", func(s *swarm.ServiceSpec) {
			s.TaskTemplate.ContainerSpec.Configs = []*swarm.ConfigReference{{ConfigID: "a", ConfigName: "ca"}}
		}, 400, "invalid Config: either File or Runtime should be set"},
		{"ingress port without ingress network", func(s *swarm.ServiceSpec) {
			s.EndpointSpec = &swarm.EndpointSpec{Ports: []swarm.PortConfig{{TargetPort: 80, PublishedPort: 8080}}}
		}, 400, "rpc error: code = FailedPrecondition desc = service needs ingress network, but no ingress network is present"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, st := newTestCluster(t)
			spec := simpleSpec("web")
			tt.edit(&spec)
			_, err := c.CreateService(context.Background(), spec, "", false)
			wantErr(t, err, tt.status, tt.text)
			st.View(func(tx store.ReadTx) {
				if n := len(tx.ListServices()); n != 0 {
					t.Fatalf("%d services stored after a refused create", n)
				}
			})
		})
	}
}

func TestCreateServiceConflicts(t *testing.T) {
	c, _ := newTestCluster(t)
	addIngress(t, c)
	ingress := simpleSpec("web")
	ingress.EndpointSpec = &swarm.EndpointSpec{Ports: []swarm.PortConfig{{TargetPort: 80, PublishedPort: 8080}}}
	webID := mustCreateService(t, c, ingress)

	again := simpleSpec("Web")
	_, err := c.CreateService(context.Background(), again, "", false)
	wantErr(t, err, 409, "rpc error: code = AlreadyExists desc = name conflicts with an existing object: service Web already exists")

	clash := simpleSpec("other")
	clash.EndpointSpec = &swarm.EndpointSpec{Ports: []swarm.PortConfig{{TargetPort: 81, PublishedPort: 8080, PublishMode: "host"}}}
	_, err = c.CreateService(context.Background(), clash, "", false)
	wantErr(t, err, 400, "rpc error: code = InvalidArgument desc = port '8080' is already in use by service 'web' ("+webID+") as an ingress port")

	udp := simpleSpec("other")
	udp.EndpointSpec = &swarm.EndpointSpec{Ports: []swarm.PortConfig{{Protocol: "udp", TargetPort: 81, PublishedPort: 8080}}}
	mustCreateService(t, c, udp)

	attach := simpleSpec("third")
	attach.TaskTemplate.Networks = []swarm.NetworkAttachmentConfig{{Target: "ingress"}}
	_, err = c.CreateService(context.Background(), attach, "", false)
	wantErr(t, err, 400, `rpc error: code = InvalidArgument desc = Service cannot be explicitly attached to the ingress network "ingress"`)
}
