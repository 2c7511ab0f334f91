package control

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/store"
)

// The body `docker service create --name Web --publish 8080:80 --replicas=3 bb:1` sends
// (traces/service-create-request-Web.json).
const webCreateBody = `{"Name":"Web","Labels":{},"TaskTemplate":{"ContainerSpec":{"Image":"bb:1","Init":false,"DNSConfig":{}},
"Resources":{"Limits":{},"Reservations":{}},"Placement":{},"ForceUpdate":0},"Mode":{"Replicated":{"Replicas":3}},
"EndpointSpec":{"Mode":"vip","Ports":[{"Protocol":"tcp","TargetPort":80,"PublishedPort":8080,"PublishMode":"ingress"}]}}`

// What dockerd answers for it: without defaults (as in service-list.json) and with insertDefaults=true
// (service-inspect-Web.json).
const (
	webSpecStored = `{"Name":"Web","Labels":{},"TaskTemplate":{"ContainerSpec":{"Image":"bb:1","Init":false,"DNSConfig":{},
"Isolation":"default"},"Resources":{"Limits":{},"Reservations":{}},"Placement":{},"ForceUpdate":0,"Runtime":"container"},
"Mode":{"Replicated":{"Replicas":3}},
"EndpointSpec":{"Mode":"vip","Ports":[{"Protocol":"tcp","TargetPort":80,"PublishedPort":8080,"PublishMode":"ingress"}]}}`
	webSpecWithDefaults = `{"Name":"Web","Labels":{},"TaskTemplate":{"ContainerSpec":{"Image":"bb:1","Init":false,
"StopGracePeriod":10000000000,"DNSConfig":{},"Isolation":"default"},"Resources":{"Limits":{},"Reservations":{}},
"RestartPolicy":{"Condition":"any","Delay":5000000000,"MaxAttempts":0},"Placement":{},"ForceUpdate":0,"Runtime":"container"},
"Mode":{"Replicated":{"Replicas":3}},
"UpdateConfig":{"Parallelism":1,"FailureAction":"pause","Monitor":5000000000,"MaxFailureRatio":0,"Order":"stop-first"},
"RollbackConfig":{"Parallelism":1,"FailureAction":"pause","Monitor":5000000000,"MaxFailureRatio":0,"Order":"stop-first"},
"EndpointSpec":{"Mode":"vip","Ports":[{"Protocol":"tcp","TargetPort":80,"PublishedPort":8080,"PublishMode":"ingress"}]}}`
)

// sameAsJSON fails unless v encodes to the same JSON document as want.
func sameAsJSON(t *testing.T, v any, want string) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var got, exp any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("bad expectation: %v", err)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Fatalf("got  %s\nwant %s", b, strings.Join(strings.Fields(want), ""))
	}
}

func TestCreateServiceStoresWhatDockerReads(t *testing.T) {
	c, st := newTestCluster(t)
	addIngress(t, c)
	id := mustCreateService(t, c, specJSON(t, webCreateBody))
	if len(id) != 25 {
		t.Fatalf("ID %q is not a swarm ID", id)
	}

	plain := mustGetService(t, c, "Web")
	sameAsJSON(t, plain.Spec, webSpecStored)
	if plain.ID != id || plain.PreviousSpec != nil || plain.UpdateStatus != nil || plain.JobStatus != nil || plain.ServiceStatus != nil {
		t.Fatalf("unexpected service fields: %+v", plain)
	}
	if !plain.CreatedAt.Equal(testNow) || !plain.UpdatedAt.Equal(testNow) {
		t.Fatalf("CreatedAt %v UpdatedAt %v, want %v", plain.CreatedAt, plain.UpdatedAt, testNow)
	}

	full, err := c.GetService(context.Background(), id, true)
	if err != nil {
		t.Fatal(err)
	}
	sameAsJSON(t, full.Spec, webSpecWithDefaults)
	// insertDefaults works on a copy: the stored spec is unchanged.
	sameAsJSON(t, mustGetService(t, c, id).Spec, webSpecStored)

	st.View(func(tx store.ReadTx) {
		if s := tx.GetService(id); s.SpecVersion != 1 {
			t.Fatalf("SpecVersion = %d, want 1", s.SpecVersion)
		}
	})
}

func TestInsertDefaultsKeepsWhatIsSet(t *testing.T) {
	c, _ := newTestCluster(t)
	spec := specJSON(t, `{"Name":"x","TaskTemplate":{"ContainerSpec":{"Image":"bb:1","StopGracePeriod":3000000000},
"RestartPolicy":{"Condition":"on-failure","MaxAttempts":3}},"UpdateConfig":{"Parallelism":2,"Delay":1000000000,
"FailureAction":"rollback","Order":"start-first"},"Mode":{"Global":{}}}`)
	id := mustCreateService(t, c, spec)
	s, err := c.GetService(context.Background(), id, true)
	if err != nil {
		t.Fatal(err)
	}
	sameAsJSON(t, s.Spec, `{"Name":"x","Labels":{},"TaskTemplate":{"ContainerSpec":{"Image":"bb:1","StopGracePeriod":3000000000,
"DNSConfig":{},"Isolation":"default"},"Resources":{},"RestartPolicy":{"Condition":"on-failure","Delay":5000000000,"MaxAttempts":3},
"Placement":{},"ForceUpdate":0,"Runtime":"container"},"Mode":{"Global":{}},
"UpdateConfig":{"Parallelism":2,"Delay":1000000000,"FailureAction":"rollback","Monitor":5000000000,"MaxFailureRatio":0,"Order":"start-first"},
"RollbackConfig":{"Parallelism":1,"FailureAction":"pause","Monitor":5000000000,"MaxFailureRatio":0,"Order":"stop-first"}}`)
}

func TestCreateServiceStackDeployBody(t *testing.T) {
	c, _ := newTestCluster(t)
	addIngress(t, c)
	netID, err := c.CreateNetwork(context.Background(), network.CreateRequest{Name: "demostk_default",
		CreateOptions: network.CreateOptions{Driver: "overlay", Labels: map[string]string{"com.docker.stack.namespace": "demostk"}}})
	if err != nil {
		t.Fatal(err)
	}
	// stack deploy names networks, and sends Replicated without Replicas and an UpdateConfig with empty enums.
	id := mustCreateService(t, c, specJSON(t, `{"Name":"demostk_web","Labels":{"com.docker.stack.namespace":"demostk"},
"TaskTemplate":{"ContainerSpec":{"Image":"bb:1","Privileges":{"CredentialSpec":null,"SELinuxContext":null,"NoNewPrivileges":false}},
"Resources":{},"Placement":{},"Networks":[{"Target":"demostk_default","Aliases":["web"]}],"ForceUpdate":0},
"Mode":{"Replicated":{}},"UpdateConfig":{"Parallelism":1,"MaxFailureRatio":0,"Order":""},
"EndpointSpec":{"Ports":[{"Protocol":"tcp","TargetPort":80,"PublishedPort":8082,"PublishMode":"ingress"}]}}`))
	s := mustGetService(t, c, id)
	sameAsJSON(t, s.Spec, `{"Name":"demostk_web","Labels":{"com.docker.stack.namespace":"demostk"},
"TaskTemplate":{"ContainerSpec":{"Image":"bb:1","Privileges":{"CredentialSpec":null,"SELinuxContext":null,"NoNewPrivileges":false},
"Isolation":"default"},"Resources":{},"Placement":{},"Networks":[{"Target":"`+netID+`","Aliases":["web"]}],"ForceUpdate":0,
"Runtime":"container"},"Mode":{"Replicated":{"Replicas":1}},
"UpdateConfig":{"Parallelism":1,"FailureAction":"pause","MaxFailureRatio":0,"Order":"stop-first"},
"EndpointSpec":{"Mode":"vip","Ports":[{"Protocol":"tcp","TargetPort":80,"PublishedPort":8082,"PublishMode":"ingress"}]}}`)
}

func TestCreateServiceModesAndNames(t *testing.T) {
	c, st := newTestCluster(t)

	noName := simpleSpec("")
	id := mustCreateService(t, c, noName)
	s := mustGetService(t, c, id)
	if !isValidDNSName.MatchString(s.Spec.Name) || !strings.Contains(s.Spec.Name, "_") {
		t.Fatalf("generated name %q is not a namesgenerator name", s.Spec.Name)
	}
	if s.Spec.Mode.Replicated == nil || *s.Spec.Mode.Replicated.Replicas != 1 {
		t.Fatalf("no mode should read as one replica, got %+v", s.Spec.Mode)
	}

	job := simpleSpec("job")
	job.Mode.ReplicatedJob = &swarm.ReplicatedJob{MaxConcurrent: uint64Ptr(3)}
	jobID := mustCreateService(t, c, job)
	js := mustGetService(t, c, jobID)
	if j := js.Spec.Mode.ReplicatedJob; *j.MaxConcurrent != 3 || *j.TotalCompletions != 3 {
		t.Fatalf("replicated job = %+v, want MaxConcurrent 3 TotalCompletions 3", j)
	}
	if js.JobStatus == nil || !js.JobStatus.LastExecution.Equal(testNow) || js.JobStatus.JobIteration.Index != 0 {
		t.Fatalf("JobStatus = %+v", js.JobStatus)
	}
	sameAsJSON(t, js.JobStatus, `{"JobIteration":{},"LastExecution":"2026-11-25T06:00:00Z"}`)

	gjob := simpleSpec("gjob")
	gjob.Mode.GlobalJob = &swarm.GlobalJob{}
	mustCreateService(t, c, gjob)
	st.View(func(tx store.ReadTx) {
		if n := len(tx.ListServices()); n != 3 {
			t.Fatalf("%d services, want 3", n)
		}
	})
}

func TestGetServiceResolution(t *testing.T) {
	c, st := newTestCluster(t)
	mk := func(id, name string) *store.Service {
		s := &store.Service{SpecVersion: 1}
		s.ID = id
		s.Spec = simpleSpec(name)
		return s
	}
	put(t, st, mk("abc111", "Web"), mk("abc222", "abc111x"), mk("xyz333", "abc"))

	tests := []struct {
		ref    string
		want   string // service ID
		status int
		text   string
	}{
		{ref: "abc111", want: "abc111"},                          // full ID
		{ref: "Web", want: "abc111"},                             // exact name
		{ref: "abc", want: "xyz333"},                             // a name beats an ID prefix
		{ref: "abc2", want: "abc222"},                            // unique ID prefix
		{ref: "xyz", want: "xyz333"},                             // unique ID prefix
		{ref: "web", status: 404, text: "service web not found"}, // names are case-sensitive
		{ref: "ab", status: 400, text: "service ab is ambiguous (2 matches found)"},
		{ref: "nope", status: 404, text: "service nope not found"},
	}
	for _, tt := range tests {
		s, err := c.GetService(context.Background(), tt.ref, false)
		if tt.status != 0 {
			wantErr(t, err, tt.status, tt.text)
			continue
		}
		if err != nil || s.ID != tt.want {
			t.Fatalf("GetService(%q) = %q, %v; want %q", tt.ref, s.ID, err, tt.want)
		}
	}
}

func TestNotAManager(t *testing.T) {
	c := &Cluster{}
	_, err := c.GetServices(context.Background(), swarm.ServiceListOptions{})
	wantErr(t, err, 503, msgNoSwarm)
	worker := &Cluster{node: fakeNode{id: "w1"}}
	_, err = worker.GetTasks(context.Background(), swarm.TaskListOptions{})
	wantErr(t, err, 503, msgNotManager)
}

func TestUpdateService(t *testing.T) {
	ctx := context.Background()
	c, st := newTestCluster(t)
	id := mustCreateService(t, c, simpleSpec("web"))
	v1 := mustGetService(t, c, id)

	// A stale version is Docker's "update out of sequence" (500).
	spec := v1.Spec
	spec.TaskTemplate.ContainerSpec = &swarm.ContainerSpec{Image: "bb:2"}
	_, err := c.UpdateService(ctx, "web", v1.Version.Index+7, spec, swarm.ServiceUpdateOptions{}, false)
	wantErr(t, err, 500, "rpc error: code = Unknown desc = update out of sequence")

	// Rolling back a service that never changed.
	_, err = c.UpdateService(ctx, id, v1.Version.Index, v1.Spec, swarm.ServiceUpdateOptions{Rollback: "previous"}, false)
	wantErr(t, err, 400, "rpc error: code = FailedPrecondition desc = service "+id+" does not have a previous spec")
	_, err = c.UpdateService(ctx, id, v1.Version.Index, v1.Spec, swarm.ServiceUpdateOptions{RegistryAuthFrom: "previous-spec"}, false)
	wantErr(t, err, 500, "service does not have a previous spec")
	_, err = c.UpdateService(ctx, id, v1.Version.Index, v1.Spec, swarm.ServiceUpdateOptions{RegistryAuthFrom: "mine"}, false)
	wantErr(t, err, 500, "unsupported registryAuthFrom value")
	_, err = c.UpdateService(ctx, id, v1.Version.Index, v1.Spec, swarm.ServiceUpdateOptions{Rollback: "later"}, false)
	wantErr(t, err, 500, "unrecognized rollback option later")

	// A real change: PreviousSpec is the old spec, SpecVersion moves on, UpdateStatus is the orchestrator's.
	resp, err := c.UpdateService(ctx, id, v1.Version.Index, spec, swarm.ServiceUpdateOptions{RegistryAuthFrom: "spec"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if resp == nil || resp.Warnings != nil {
		t.Fatalf("response = %+v, want Warnings nil", resp)
	}
	v2 := mustGetService(t, c, id)
	if v2.Spec.TaskTemplate.ContainerSpec.Image != "bb:2" || v2.PreviousSpec == nil ||
		v2.PreviousSpec.TaskTemplate.ContainerSpec.Image != "bb:1" || v2.UpdateStatus != nil {
		t.Fatalf("after update: %+v", v2)
	}
	if v2.Version.Index <= v1.Version.Index {
		t.Fatalf("version %d did not move past %d", v2.Version.Index, v1.Version.Index)
	}
	specVersion := func() uint64 {
		var v uint64
		st.View(func(tx store.ReadTx) { v = tx.GetService(id).SpecVersion })
		return v
	}
	if v := specVersion(); v != 2 {
		t.Fatalf("SpecVersion = %d, want 2", v)
	}

	// Scaling changes nothing the tasks are made from: they stay up to date.
	scaled := v2.Spec
	scaled.Mode.Replicated = &swarm.ReplicatedService{Replicas: uint64Ptr(5)}
	if _, err := c.UpdateService(ctx, id, v2.Version.Index, scaled, swarm.ServiceUpdateOptions{}, false); err != nil {
		t.Fatal(err)
	}
	if v := specVersion(); v != 2 {
		t.Fatalf("SpecVersion after scaling = %d, want 2", v)
	}
	v3 := mustGetService(t, c, id)
	if *v3.Spec.Mode.Replicated.Replicas != 5 || *v3.PreviousSpec.Mode.Replicated.Replicas != 1 {
		t.Fatalf("scale not stored: %+v", v3.Spec.Mode)
	}

	// Rollback swaps the previous spec back in.
	if _, err := c.UpdateService(ctx, id, v3.Version.Index, v3.Spec, swarm.ServiceUpdateOptions{Rollback: "previous"}, false); err != nil {
		t.Fatal(err)
	}
	v4 := mustGetService(t, c, id)
	if *v4.Spec.Mode.Replicated.Replicas != 1 || *v4.PreviousSpec.Mode.Replicated.Replicas != 5 ||
		v4.Spec.TaskTemplate.ContainerSpec.Image != "bb:2" {
		t.Fatalf("rollback of the scale: spec %+v, previous %+v", v4.Spec.Mode, v4.PreviousSpec.Mode)
	}
	us := v4.UpdateStatus
	if us == nil || us.State != swarm.UpdateStateRollbackStarted || us.Message != "manually requested rollback" ||
		us.StartedAt == nil || !us.StartedAt.Equal(testNow) || us.CompletedAt != nil {
		t.Fatalf("UpdateStatus = %+v", us)
	}
	if v := specVersion(); v != 2 {
		t.Fatalf("SpecVersion after rolling back a scale = %d, want 2", v)
	}
}

func TestRollbackRestoresPreviousSpec(t *testing.T) {
	ctx := context.Background()
	c, st := newTestCluster(t)
	id := mustCreateService(t, c, simpleSpec("web"))
	v1 := mustGetService(t, c, id)
	spec := v1.Spec
	spec.TaskTemplate.ContainerSpec = &swarm.ContainerSpec{Image: "bb:2"}
	if _, err := c.UpdateService(ctx, id, v1.Version.Index, spec, swarm.ServiceUpdateOptions{}, false); err != nil {
		t.Fatal(err)
	}
	v2 := mustGetService(t, c, id)
	if _, err := c.UpdateService(ctx, id, v2.Version.Index, v2.Spec, swarm.ServiceUpdateOptions{Rollback: "previous"}, false); err != nil {
		t.Fatal(err)
	}
	v3 := mustGetService(t, c, id)
	if v3.Spec.TaskTemplate.ContainerSpec.Image != "bb:1" || v3.PreviousSpec.TaskTemplate.ContainerSpec.Image != "bb:2" {
		t.Fatalf("after rollback: spec %s previous %s", v3.Spec.TaskTemplate.ContainerSpec.Image, v3.PreviousSpec.TaskTemplate.ContainerSpec.Image)
	}
	// the tasks of the first spec are current again: a rollback swaps the versions with the specs
	var cur, prev uint64
	st.View(func(tx store.ReadTx) { s := tx.GetService(id); cur, prev = s.SpecVersion, s.PreviousSpecVersion })
	if cur != 1 || prev != 2 {
		t.Fatalf("SpecVersion, PreviousSpecVersion after rolling back an image change = %d, %d, want 1, 2", cur, prev)
	}
}

func TestUpdateServiceRefusals(t *testing.T) {
	ctx := context.Background()
	c, _ := newTestCluster(t)
	id := mustCreateService(t, c, simpleSpec("web"))
	v := mustGetService(t, c, id)

	global := v.Spec
	global.Mode = swarm.ServiceMode{Global: &swarm.GlobalService{}}
	_, err := c.UpdateService(ctx, id, v.Version.Index, global, swarm.ServiceUpdateOptions{}, false)
	wantErr(t, err, 501, "rpc error: code = Unimplemented desc = service mode change is not allowed")

	renamed := v.Spec
	renamed.Name = "web2"
	_, err = c.UpdateService(ctx, id, v.Version.Index, renamed, swarm.ServiceUpdateOptions{}, false)
	wantErr(t, err, 501, "rpc error: code = Unimplemented desc = renaming services is not supported")

	_, err = c.UpdateService(ctx, "nope", v.Version.Index, v.Spec, swarm.ServiceUpdateOptions{}, false)
	wantErr(t, err, 404, "service nope not found")

	bad := v.Spec
	bad.TaskTemplate.ContainerSpec = &swarm.ContainerSpec{}
	_, err = c.UpdateService(ctx, id, v.Version.Index, bad, swarm.ServiceUpdateOptions{}, false)
	wantErr(t, err, 400, "rpc error: code = InvalidArgument desc = ContainerSpec: image reference must be provided")
}

func TestUpdateJobBumpsIteration(t *testing.T) {
	ctx := context.Background()
	c, _ := newTestCluster(t)
	job := simpleSpec("job")
	job.Mode.GlobalJob = &swarm.GlobalJob{}
	id := mustCreateService(t, c, job)
	v := mustGetService(t, c, id)
	if _, err := c.UpdateService(ctx, id, v.Version.Index, v.Spec, swarm.ServiceUpdateOptions{}, false); err != nil {
		t.Fatal(err)
	}
	if got := mustGetService(t, c, id).JobStatus.JobIteration.Index; got != 1 {
		t.Fatalf("JobIteration = %d, want 1", got)
	}
}

func TestRemoveService(t *testing.T) {
	ctx := context.Background()
	c, st := newTestCluster(t)
	id := mustCreateService(t, c, simpleSpec("web"))
	task := &store.Task{SpecVersion: 1}
	task.ID = "task1"
	task.ServiceID = id
	task.Slot = 1
	task.DesiredState = swarm.TaskStateRunning
	put(t, st, task)

	events, cancel := st.Watch()
	defer cancel()
	if err := c.RemoveService(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	ev := <-events
	if s, ok := ev.Object.(*store.Service); ev.Action != store.Update || !ok || s.ID != id || !s.PendingDelete {
		t.Fatalf("event = %+v, want the service marked PendingDelete", ev)
	}
	_, err := c.GetService(ctx, id, false)
	wantErr(t, err, 404, "service "+id+" not found")
	st.View(func(tx store.ReadTx) {
		if tx.GetTask("task1") == nil {
			t.Fatal("RemoveService must leave the tasks to the orchestrator")
		}
	})
	wantErr(t, c.RemoveService(ctx, "web"), 404, "service web not found")
	// The name is free again at once.
	mustCreateService(t, c, simpleSpec("web"))
}

func TestGetServicesFilters(t *testing.T) {
	ctx := context.Background()
	c, st := newTestCluster(t)
	mk := func(id, name string, mode swarm.ServiceMode, labels map[string]string) *store.Service {
		s := &store.Service{SpecVersion: 1}
		s.ID = id
		s.Spec = simpleSpec(name)
		s.Spec.Mode = mode
		s.Spec.Labels = labels
		s.Spec.TaskTemplate.Runtime = swarm.RuntimeContainer
		return s
	}
	three := uint64(3)
	ns := map[string]string{"com.docker.stack.namespace": "demo"}
	put(t, st,
		mk("aaa1", "surf_full", swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &three}}, ns),
		mk("aaa2", "surf_log", swarm.ServiceMode{Global: &swarm.GlobalService{}}, nil),
		mk("bbb3", "web", swarm.ServiceMode{ReplicatedJob: &swarm.ReplicatedJob{MaxConcurrent: &three, TotalCompletions: &three}}, map[string]string{"tier": "front"}),
		mk("bbb4", "job", swarm.ServiceMode{GlobalJob: &swarm.GlobalJob{}}, nil),
	)
	plugin := mk("ccc5", "plug", swarm.ServiceMode{Global: &swarm.GlobalService{}}, nil)
	plugin.Spec.TaskTemplate.Runtime = swarm.RuntimePlugin
	put(t, st, plugin)

	tests := []struct{ filters, want string }{
		{``, "surf_full,surf_log,web,job"},
		{`{"name":{"surf_":true}}`, "surf_full,surf_log"},
		{`{"name":["surf_"]}`, "surf_full,surf_log"}, // docker-py's list form
		{`{"name":{"urf":true}}`, ""},                // prefixes, not substrings
		{`{"name":{"surf_":true},"mode":{"replicated":true}}`, "surf_full"},
		{`{"mode":{"global":true,"replicated-job":true}}`, "surf_log,web"},
		{`{"mode":{"global-job":true}}`, "job"},
		{`{"id":{"bbb":true}}`, "web,job"},
		{`{"id":{"aaa1":true,"bbb4":true}}`, "surf_full,job"},
		{`{"label":{"com.docker.stack.namespace=demo":true}}`, "surf_full"},
		{`{"label":{"com.docker.stack.namespace":true}}`, "surf_full"},
		{`{"label":{"tier=back":true}}`, ""},
		{`{"runtime":{"plugin":true}}`, "plug"},
	}
	for _, tt := range tests {
		list, err := c.GetServices(ctx, swarm.ServiceListOptions{Filters: filterArgs(t, tt.filters)})
		if err != nil {
			t.Fatalf("%s: %v", tt.filters, err)
		}
		if got := serviceNames(list); got != tt.want {
			t.Errorf("filters %s: got %q, want %q", tt.filters, got, tt.want)
		}
	}
	_, err := c.GetServices(ctx, swarm.ServiceListOptions{Filters: filterArgs(t, `{"colour":{"red":true}}`)})
	wantErr(t, err, 400, "invalid filter 'colour'")

	empty, _ := newTestCluster(t)
	list, err := empty.GetServices(ctx, swarm.ServiceListOptions{})
	if err != nil || list == nil || len(list) != 0 {
		t.Fatalf("empty list = %#v, %v; want [] (never null)", list, err)
	}
}

func TestServiceStatusCounts(t *testing.T) {
	ctx := context.Background()
	c, st := newTestCluster(t)
	two := uint64(2)
	rep := &store.Service{}
	rep.ID, rep.Spec = "rep", simpleSpec("rep")
	rep.Spec.Mode.Replicated = &swarm.ReplicatedService{Replicas: &two}
	glob := &store.Service{}
	glob.ID, glob.Spec = "glob", simpleSpec("glob")
	glob.Spec.Mode.Global = &swarm.GlobalService{}
	job := &store.Service{}
	job.ID, job.Spec = "job", simpleSpec("job")
	job.Spec.Mode.ReplicatedJob = &swarm.ReplicatedJob{MaxConcurrent: &two, TotalCompletions: uint64Ptr(4)}
	job.JobStatus = &swarm.JobStatus{JobIteration: swarm.Version{Index: 5}}
	put(t, st, rep, glob, job)

	n := 0
	task := func(svc string, state, desired swarm.TaskState, iter *swarm.Version) *store.Task {
		n++
		tk := &store.Task{}
		tk.ID = svc + string(rune('a'+n))
		tk.ServiceID = svc
		tk.Status.State = state
		tk.DesiredState = desired
		tk.JobIteration = iter
		return tk
	}
	running, shutdown, complete := swarm.TaskStateRunning, swarm.TaskStateShutdown, swarm.TaskStateComplete
	put(t, st,
		task("rep", running, running, nil), task("rep", swarm.TaskStateFailed, shutdown, nil),
		task("glob", running, running, nil), task("glob", swarm.TaskStatePending, running, nil), task("glob", running, shutdown, nil),
		task("job", complete, complete, &swarm.Version{Index: 5}), task("job", running, complete, &swarm.Version{Index: 5}),
		task("job", complete, complete, &swarm.Version{Index: 4}), task("job", running, complete, nil),
	)
	list, err := c.GetServices(ctx, swarm.ServiceListOptions{Status: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]swarm.ServiceStatus{
		"glob": {RunningTasks: 2, DesiredTasks: 2},
		"job":  {RunningTasks: 1, DesiredTasks: 2, CompletedTasks: 1},
		"rep":  {RunningTasks: 1, DesiredTasks: 2},
	}
	for _, s := range list {
		if s.ServiceStatus == nil || *s.ServiceStatus != want[s.ID] {
			t.Errorf("%s: status %+v, want %+v", s.ID, s.ServiceStatus, want[s.ID])
		}
	}
	list, _ = c.GetServices(ctx, swarm.ServiceListOptions{})
	for _, s := range list {
		if s.ServiceStatus != nil {
			t.Errorf("%s: status without status=true", s.ID)
		}
	}
}

func TestCreateServiceDigestWarning(t *testing.T) {
	c, _ := newTestCluster(t)
	resp, err := c.CreateService(context.Background(), simpleSpec("web"), "", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Warnings) != 1 || !strings.HasPrefix(resp.Warnings[0], "image bb:1 could not be accessed on a registry to record\nits digest.") {
		t.Fatalf("warnings = %q", resp.Warnings)
	}
	pinned := simpleSpec("pinned")
	pinned.TaskTemplate.ContainerSpec.Image = "bb:1@sha256:" + strings.Repeat("a", 64)
	resp, err = c.CreateService(context.Background(), pinned, "", true)
	if err != nil || resp.Warnings != nil {
		t.Fatalf("pinned image: %+v, %v", resp, err)
	}
}
