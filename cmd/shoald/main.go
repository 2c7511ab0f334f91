// Command shoald is the shoal daemon: a Docker Engine that speaks swarm mode. It takes dockerd's flag
// names where they apply.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/shoal-project/shoal/runtime/container"
	"github.com/shoal-project/shoal/server"
)

// hostsFlag collects repeated -H/--host values.
type hostsFlag []string

func (h *hostsFlag) String() string     { return strings.Join(*h, ",") }
func (h *hostsFlag) Set(v string) error { *h = append(*h, v); return nil }

// listFlag collects repeated values of a list option.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	container.InitIfChild() // a container's init process stops here
	os.Exit(run())
}

func run() int {
	fs := flag.NewFlagSet("shoald", flag.ContinueOnError)
	var cfg server.Config
	var hosts hostsFlag
	var insecure listFlag
	fs.Var(&hosts, "H", "daemon socket(s) to connect to (unix:///path, tcp://host:port)")
	fs.Var(&hosts, "host", "daemon socket(s) to connect to (unix:///path, tcp://host:port)")
	fs.StringVar(&cfg.DataRoot, "data-root", server.DefaultDataRoot, "root directory of persistent state")
	fs.StringVar(&cfg.ExecRoot, "exec-root", server.DefaultExecRoot, "root directory for execution state files")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", `set the logging level ("debug"|"info"|"warn"|"error"|"fatal")`)
	fs.StringVar(&cfg.LogLevel, "l", "info", "set the logging level")
	fs.BoolVar(&cfg.TLS, "tls", false, "use TLS; implied by --tlsverify")
	fs.BoolVar(&cfg.TLSVerify, "tlsverify", false, "use TLS and verify the remote")
	fs.StringVar(&cfg.TLSCACert, "tlscacert", "", "trust certs signed only by this CA")
	fs.StringVar(&cfg.TLSCert, "tlscert", "", "path to TLS certificate file")
	fs.StringVar(&cfg.TLSKey, "tlskey", "", "path to TLS key file")
	fs.Var(&insecure, "insecure-registry", "enable insecure registry communication")
	fs.BoolVar(&cfg.Experimental, "experimental", false, "enable experimental features")
	configFile := fs.String("config-file", "/etc/docker/daemon.json", "daemon configuration file")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	cfg.Hosts = hosts
	cfg.InsecureRegistries = insecure
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "H", "host":
			set["hosts"] = true
		case "l":
			set["log-level"] = true
		case "insecure-registry":
			set["insecure-registries"] = true
		default:
			set[f.Name] = true
		}
	})
	if err := cfg.MergeFile(*configFile, set["config-file"], set); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if cfg.TLSVerify {
		cfg.TLS = true
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level(cfg.LogLevel)}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := server.Run(ctx, cfg, log); err != nil {
		log.Error("shoald failed", "err", err)
		return 1
	}
	return 0
}

func level(s string) slog.Level {
	switch s {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error", "fatal":
		return slog.LevelError
	}
	return slog.LevelInfo
}
