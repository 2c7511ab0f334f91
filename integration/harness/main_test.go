package harness

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeShoaldEnv makes the test binary act as a stand-in shoald (a test fake:
// it checks the harness, not the product). It serves /_ping and /version,
// starts one "container" child process and makes one tmpfs mount under its
// exec root, as a real daemon would.
const fakeShoaldEnv = "HARNESS_FAKE_SHOALD"

// realShoald is $SHOALD_BIN as the test started, before TestMain points it
// at the stand-in: the real daemon, for the tests that want one.
var realShoald string

func TestMain(m *testing.M) {
	if os.Getenv(fakeShoaldEnv) == "1" {
		fakeShoald()
		return
	}
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	realShoald = os.Getenv(ShoaldEnv)
	os.Setenv(ShoaldEnv, exe)
	os.Setenv(fakeShoaldEnv, "1") // inherited by the daemon only: the test binary checked it above
	os.Exit(m.Run())
}

func fakeShoald() {
	fs := flag.NewFlagSet("shoald", flag.ExitOnError)
	host := fs.String("H", "", "")
	dataRoot := fs.String("data-root", "", "")
	execRoot := fs.String("exec-root", "", "")
	fs.String("log-level", "", "")
	exitAt := fs.String("exit-immediately", "", "")
	var insecure []string
	fs.Func("insecure-registry", "", func(v string) error { insecure = append(insecure, v); return nil })
	fs.Parse(os.Args[1:])
	fmt.Println("fake shoald starting", os.Args[1:])
	if *exitAt != "" {
		fmt.Println("fake shoald: exiting as asked")
		os.Exit(3)
	}
	for _, d := range []string{*dataRoot, *execRoot} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			panic(err)
		}
	}
	// A "container": a child that outlives the daemon when it is killed.
	child := exec.Command("/bin/busybox", "sleep", "3600")
	child.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := child.Start(); err != nil {
		panic(err)
	}
	os.WriteFile(filepath.Join(*dataRoot, "child.pid"), []byte(strconv.Itoa(child.Process.Pid)), 0o644)
	// What the harness gave it, for the tests to check.
	hostname, _ := os.Hostname()
	os.WriteFile(filepath.Join(*dataRoot, "hostname"), []byte(hostname), 0o644)
	os.WriteFile(filepath.Join(*dataRoot, "insecure-registries"), []byte(strings.Join(insecure, ",")), 0o644)
	mnt := filepath.Join(*execRoot, "mnt")
	os.MkdirAll(mnt, 0o755)
	if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, "size=1m"); err != nil {
		panic(err)
	}

	sock := strings.TrimPrefix(*host, "unix://")
	os.Remove(sock)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	ping := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.51")
		w.Header().Set("Ostype", "linux")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if r.Method == http.MethodGet {
			io.WriteString(w, "OK")
		}
	}
	mux.HandleFunc("/_ping", ping)
	version := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.51")
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"Platform":      map[string]string{"Name": "shoal"},
			"Components":    []any{map[string]any{"Name": "Engine", "Version": "0.0.0", "Details": map[string]string{"ApiVersion": "1.51"}}},
			"Version":       "0.0.0",
			"ApiVersion":    "1.51",
			"MinAPIVersion": "1.24",
			"Os":            "linux",
			"Arch":          "amd64",
		})
	}
	mux.HandleFunc("/version", version)
	// A contract violation on demand: a list answered with null.
	mux.HandleFunc("/services", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "null\n")
	})
	// Serve /vN.NN/x as /x, as dockerd does.
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; strings.HasPrefix(p, "/v1.") {
			if i := strings.IndexByte(p[1:], '/'); i > 0 {
				r.URL.Path = p[i+1:]
			}
		}
		mux.ServeHTTP(w, r)
	}))
	fmt.Println("fake shoald serving on", sock)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	<-sig
	fmt.Println("fake shoald: SIGTERM, exiting")
	os.Exit(0)
}
