package container

import (
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/errdefs"
)

func TestMergeCommand(t *testing.T) {
	img := struct{ ep, cmd []string }{[]string{"/entry"}, []string{"default"}}
	tests := []struct {
		name           string
		command, args  []string
		wantEP, wantCM []string
	}{
		{"image only", nil, nil, []string{"/entry"}, []string{"default"}},
		{"args replace cmd", nil, []string{"a"}, []string{"/entry"}, []string{"a"}},
		{"command drops image cmd", []string{"/bin/x"}, nil, []string{"/bin/x"}, nil},
		{"command and args", []string{"/bin/x"}, []string{"y"}, []string{"/bin/x"}, []string{"y"}},
	}
	for _, tt := range tests {
		ep, cmd := MergeCommand(img.ep, img.cmd, tt.command, tt.args)
		if strings.Join(ep, " ") != strings.Join(tt.wantEP, " ") || strings.Join(cmd, " ") != strings.Join(tt.wantCM, " ") {
			t.Errorf("%s: got %v %v", tt.name, ep, cmd)
		}
	}
}

func TestMergeEnv(t *testing.T) {
	tests := []struct {
		base, over []string
		want       string
	}{
		{[]string{"A=1", "B=2"}, []string{"B=3", "C=4"}, "A=1 B=3 C=4"},
		{[]string{"A=1", "B=2"}, []string{"A"}, "B=2"},
		{nil, []string{"X="}, "X="},
		{[]string{"PATH=/bin"}, nil, "PATH=/bin"},
	}
	for _, tt := range tests {
		if got := strings.Join(MergeEnv(tt.base, tt.over), " "); got != tt.want {
			t.Errorf("MergeEnv(%v, %v) = %q, want %q", tt.base, tt.over, got, tt.want)
		}
	}
}

func TestProcessEnvDefaults(t *testing.T) {
	s := Spec{ID: strings.Repeat("ab", 32), Env: []string{"PATH=/custom", "A=b"}, TTY: true}
	got := strings.Join(s.processEnv(), " ")
	if got != "PATH=/custom HOSTNAME=abababababab TERM=xterm A=b" {
		t.Fatalf("env %q", got)
	}
}

func TestParseSignal(t *testing.T) {
	tests := []struct {
		in   string
		want syscall.Signal
		ok   bool
	}{
		{"SIGTERM", syscall.SIGTERM, true},
		{"term", syscall.SIGTERM, true},
		{"KILL", syscall.SIGKILL, true},
		{"9", syscall.SIGKILL, true},
		{"SIGRTMIN+3", 37, true},
		{"RTMAX", 64, true},
		{"SIGNOPE", 0, false},
		{"0", 0, false},
		{"65", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseSignal(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSignal(%q) = %v, %v", tt.in, got, err)
		}
		if err != nil && !errdefs.IsInvalidParameter(err) {
			t.Errorf("ParseSignal(%q) error not InvalidParameter: %v", tt.in, err)
		}
	}
}

func TestSpecValidate(t *testing.T) {
	good := func() Spec {
		return Spec{ID: strings.Repeat("0a", 32), Name: "web.1.abc", Cmd: []string{"x"}, LowerDirs: []string{"/l"}}
	}
	tests := []struct {
		name   string
		change func(*Spec)
		errSub string
	}{
		{"ok", func(*Spec) {}, ""},
		{"short id", func(s *Spec) { s.ID = "abc" }, "invalid container ID"},
		{"upper-case id", func(s *Spec) { s.ID = strings.Repeat("0A", 32) }, "invalid container ID"},
		{"bad name", func(s *Spec) { s.Name = "-x" }, "Invalid container name"},
		{"no command", func(s *Spec) { s.Cmd = nil }, "no command specified"},
		{"relative workdir", func(s *Spec) { s.WorkingDir = "x" }, "needs to be an absolute path"},
		{"no layers", func(s *Spec) { s.LowerDirs = nil }, "no image layers"},
		{"bad stop signal", func(s *Spec) { s.StopSignal = "SIGFOO" }, "Invalid signal"},
		{"relative netns", func(s *Spec) { s.NetNS = "ns1" }, "invalid network namespace"},
	}
	for _, tt := range tests {
		s := good()
		tt.change(&s)
		err := s.validate()
		if tt.errSub == "" && err != nil || tt.errSub != "" && (err == nil || !strings.Contains(err.Error(), tt.errSub)) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func TestTweakCapabilities(t *testing.T) {
	known := []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"}
	tests := []struct {
		name        string
		add, drop   []string
		want, errIs string
	}{
		{"defaults", nil, nil, strings.Join(defaultCapabilities, " "), ""},
		{"add short form", []string{"net_admin"}, nil, strings.Join(append(append([]string{}, defaultCapabilities...), "CAP_NET_ADMIN"), " "), ""},
		{"drop ALL add one", []string{"CAP_KILL"}, []string{"ALL"}, "CAP_KILL", ""},
		{"add ALL drop one", []string{"all"}, []string{"kill"}, "CAP_CHOWN CAP_NET_ADMIN CAP_SYS_ADMIN", ""},
		{"drop all", nil, []string{"ALL"}, "", ""},
		{"unknown", []string{"CAP_NOPE"}, nil, "", `unknown capability: "CAP_NOPE"`},
	}
	for _, tt := range tests {
		got, err := tweakCapabilities(tt.add, tt.drop, known)
		if tt.errIs != "" {
			if err == nil || err.Error() != tt.errIs {
				t.Errorf("%s: error %v", tt.name, err)
			}
			continue
		}
		if err != nil || strings.Join(got, " ") != tt.want {
			t.Errorf("%s: got %v, %v", tt.name, got, err)
		}
	}
	drop, err := tweakCapabilities(nil, []string{"CAP_CHOWN", "MKNOD"}, allCapabilities())
	if err != nil || len(drop) != len(defaultCapabilities)-2 {
		t.Errorf("drop two of the defaults: %v %v", drop, err)
	}
}

func TestHostsContent(t *testing.T) {
	got, err := hostsContent([]string{"198.18.0.1 a b", "c:198.18.0.2", "d:[::1]"})
	if err != nil {
		t.Fatal(err)
	}
	want := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::\tip6-localnet\nff00::\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n" +
		"198.18.0.1\ta b\n198.18.0.2\tc\n::1\td\n"
	if string(got) != want {
		t.Fatalf("got\n%s", got)
	}
	for _, bad := range []string{"nonsense", "x 1.2.3"} {
		if _, err := hostsContent([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestResolvConfContent(t *testing.T) {
	host := []byte("# generated\nnameserver 127.0.0.53\nnameserver 198.18.0.9\nsearch corp.test\noptions edns0\n")
	tests := []struct {
		name        string
		dns         swarm.DNSConfig
		host        []byte
		hostNetwork bool
		want        string
	}{
		{"host file without loopback", swarm.DNSConfig{}, host, false, "nameserver 198.18.0.9\nsearch corp.test\noptions edns0\n"},
		{"host network keeps loopback", swarm.DNSConfig{}, host, true, "nameserver 127.0.0.53\nnameserver 198.18.0.9\nsearch corp.test\noptions edns0\n"},
		{"only loopback falls back", swarm.DNSConfig{}, []byte("nameserver 127.0.0.1\n"), false, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"},
		{"explicit config", swarm.DNSConfig{Nameservers: []string{"198.18.0.1"}, Search: []string{"a.test"}, Options: []string{"ndots:1"}}, host, false,
			"nameserver 198.18.0.1\nsearch a.test\noptions ndots:1\n"},
		{"explicit search keeps host servers", swarm.DNSConfig{Search: []string{"b.test"}}, host, false,
			"nameserver 198.18.0.9\nsearch b.test\noptions edns0\n"},
	}
	for _, tt := range tests {
		if got := string(resolvConfContent(tt.dns, tt.host, tt.hostNetwork)); got != tt.want {
			t.Errorf("%s: got\n%s", tt.name, got)
		}
	}
}

func TestHealthProbeCommand(t *testing.T) {
	tests := []struct {
		test []string
		want string
		err  bool
	}{
		{nil, "", false},
		{[]string{"NONE"}, "", false},
		{[]string{"CMD", "curl", "-f", "x"}, "curl -f x", false},
		{[]string{"CMD-SHELL", "exit 0"}, "/bin/sh -c exit 0", false},
		{[]string{"CMD"}, "", true},
		{[]string{"WHAT", "x"}, "", true},
	}
	for _, tt := range tests {
		got, err := healthProbeCommand(&containertypes.HealthConfig{Test: tt.test})
		if (err != nil) != tt.err || strings.Join(got, " ") != tt.want {
			t.Errorf("%v: %v %v", tt.test, got, err)
		}
	}
}

func TestApplyProbeResult(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	hc := &containertypes.HealthConfig{Retries: 2, StartPeriod: 10 * time.Second}
	res := func(at time.Duration, code int) containertypes.HealthcheckResult {
		return containertypes.HealthcheckResult{Start: t0.Add(at), End: t0.Add(at), ExitCode: code}
	}
	type step struct {
		at     time.Duration
		code   int
		status containertypes.HealthStatus
		streak int
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"failures in the start period do not count", []step{
			{1 * time.Second, 1, containertypes.Starting, 0},
			{5 * time.Second, 1, containertypes.Starting, 0},
			{11 * time.Second, 1, containertypes.Starting, 1},
			{12 * time.Second, 1, containertypes.Unhealthy, 2},
		}},
		{"a success makes it healthy, even in the start period", []step{
			{1 * time.Second, 0, containertypes.Healthy, 0},
			{2 * time.Second, 1, containertypes.Healthy, 1},
			{3 * time.Second, 1, containertypes.Unhealthy, 2},
			{4 * time.Second, 0, containertypes.Healthy, 0},
		}},
		{"timeouts (-1) are failures", []step{
			{11 * time.Second, -1, containertypes.Starting, 1},
			{12 * time.Second, -1, containertypes.Unhealthy, 2},
		}},
	}
	for _, tt := range tests {
		h := containertypes.Health{Status: containertypes.Starting}
		for i, s := range tt.steps {
			h = applyProbeResult(h, res(s.at, s.code), t0, hc)
			if h.Status != s.status || h.FailingStreak != s.streak || len(h.Log) != i+1 {
				t.Errorf("%s: step %d: status %s streak %d log %d", tt.name, i, h.Status, h.FailingStreak, len(h.Log))
			}
		}
	}
	// The log keeps the last five results, oldest first.
	h := containertypes.Health{Status: containertypes.Starting}
	for i := range 7 {
		h = applyProbeResult(h, res(time.Duration(i)*time.Second, i), t0, &containertypes.HealthConfig{})
	}
	if len(h.Log) != 5 || h.Log[0].ExitCode != 2 || h.Log[4].ExitCode != 6 {
		t.Fatalf("log %+v", h.Log)
	}
}

func TestNextProbeDelay(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	hc := &containertypes.HealthConfig{Interval: time.Minute, StartPeriod: 30 * time.Second, StartInterval: time.Second}
	tests := []struct {
		status containertypes.HealthStatus
		since  time.Duration
		hc     *containertypes.HealthConfig
		want   time.Duration
	}{
		{containertypes.Starting, 5 * time.Second, hc, time.Second},
		{containertypes.Starting, 31 * time.Second, hc, time.Minute},
		{containertypes.Healthy, 5 * time.Second, hc, time.Minute},
		{containertypes.Starting, 0, &containertypes.HealthConfig{}, defaultProbeInterval},
		{containertypes.Starting, 0, &containertypes.HealthConfig{StartPeriod: time.Minute}, defaultStartInterval},
	}
	for i, tt := range tests {
		if got := nextProbeDelay(tt.status, t0, t0.Add(tt.since), tt.hc); got != tt.want {
			t.Errorf("%d: got %v want %v", i, got, tt.want)
		}
	}
}

func TestParsePSOutput(t *testing.T) {
	out := []byte("UID PID PPID C STIME TTY TIME CMD\n" +
		"root 10 1 0 10:00 ? 00:00:00 sleep 1000\n" +
		"root 11 10 0 10:00 ? 00:00:00 /bin/sh -c echo hi\n" +
		"root 12 1 0 10:00 ? 00:00:00 other\n")
	resp, err := parsePSOutput(out, []int{10, 11})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Processes) != 2 || resp.Processes[1][7] != "/bin/sh -c echo hi" || resp.Processes[0][1] != "10" {
		t.Fatalf("%+v", resp)
	}
	if _, err := parsePSOutput([]byte("USER COMMAND\n"), nil); err == nil {
		t.Fatal("no PID column accepted")
	}
}

func TestPSFormatting(t *testing.T) {
	now := time.Date(2025, 3, 4, 15, 0, 0, 0, time.UTC)
	if got := psStartTime(now.Add(-time.Hour), now); got != "14:00" {
		t.Errorf("today: %s", got)
	}
	if got := psStartTime(now.AddDate(0, -1, 0), now); got != "Feb04" {
		t.Errorf("this year: %s", got)
	}
	if got := psStartTime(now.AddDate(-1, 0, 0), now); got != "2024" {
		t.Errorf("last year: %s", got)
	}
	if got := psTime(90*time.Second + 2*time.Hour); got != "02:01:30" {
		t.Errorf("psTime: %s", got)
	}
	if got := psTime(49 * time.Hour); got != "2-01:00:00" {
		t.Errorf("psTime days: %s", got)
	}
	if got := ttyName(136<<8 | 3); got != "pts/3" {
		t.Errorf("ttyName: %s", got)
	}
}

func TestErrorsClassified(t *testing.T) {
	if err := errNotFound("x"); !errdefs.IsNotFound(err) || !errors.Is(err, ErrNotFound) {
		t.Error("not found")
	}
	if err := errNotRunning("x"); !errdefs.IsConflict(err) || !errors.Is(err, ErrNotRunning) || err.Error() != "container x is not running" {
		t.Error("not running")
	}
	if err := errAlreadyRunning("x"); !errdefs.IsNotModified(err) || !errors.Is(err, ErrAlreadyRunning) {
		t.Error("already running")
	}
}
