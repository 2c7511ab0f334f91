// Package main is the command whoami, which is a test image program: an HTTP server that answers who
// it is. GET / answers
//
//	Hostname: <hostname>
//	IP: <address>            (one line per interface address)
//	Version: <$WHOAMI_VERSION, when set>
//	RemoteAddr: <client address>
//	GET / HTTP/1.1           (the request line)
//
// GET /health answers 200 "ok", or 503 "unhealthy" while the file
// $UNHEALTHY_FILE (default /tmp/unhealthy) exists. It listens on :80, or on
// :$PORT when PORT is set, and exits 0 on SIGTERM.
//
// `whoami get URL` is a client instead: it prints the body of GET URL (names resolved by Go's own
// resolver, from /etc/resolv.conf), or exits 1 with the error. `whoami watch URL SECONDS` GETs
// URL on a new connection every 20 ms for that long and prints
// "requests N failures M versions V1,V2" (the Version lines seen, "-" for none) and the first
// failures.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "get" {
		os.Exit(get(os.Args[2]))
	}
	if len(os.Args) == 4 && os.Args[1] == "watch" {
		secs, err := strconv.Atoi(os.Args[3])
		if err != nil {
			log.Fatal(err)
		}
		os.Exit(watch(os.Args[2], time.Duration(secs)*time.Second))
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "80"
	}
	unhealthy := os.Getenv("UNHEALTHY_FILE")
	if unhealthy == "" {
		unhealthy = "/tmp/unhealthy"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if _, err := os.Stat(unhealthy); err == nil {
			http.Error(w, "unhealthy", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		host, _ := os.Hostname()
		fmt.Fprintf(w, "Hostname: %s\n", host)
		for _, ip := range addresses() {
			fmt.Fprintf(w, "IP: %s\n", ip)
		}
		if v := os.Getenv("WHOAMI_VERSION"); v != "" {
			fmt.Fprintf(w, "Version: %s\n", v)
		}
		fmt.Fprintf(w, "RemoteAddr: %s\n", r.RemoteAddr)
		fmt.Fprintf(w, "%s %s %s\n", r.Method, r.URL.RequestURI(), r.Proto)
	})
	srv := &http.Server{Addr: ":" + port, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	log.Printf("whoami listening on :%s", port)
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

// get prints the body of GET url; 0 on a 200 answer.
func get(url string) int {
	cl := &http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer resp.Body.Close()
	if _, err := io.Copy(os.Stdout, resp.Body); err != nil || resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, resp.Status, err)
		return 1
	}
	return 0
}

// watch GETs url on a new connection every 20 ms for d and prints what it saw.
func watch(url string, d time.Duration) int {
	cl := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var requests, failures int
	var firstFailures []string
	versions := map[string]bool{}
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		requests++
		resp, err := cl.Get(url)
		if err == nil {
			var body []byte
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %s", resp.Status)
			}
			version := "-"
			for _, l := range strings.Split(string(body), "\n") {
				if v, ok := strings.CutPrefix(l, "Version: "); ok {
					version = v
				}
			}
			versions[version] = true
		}
		if err != nil {
			failures++
			if len(firstFailures) < 5 {
				firstFailures = append(firstFailures, time.Now().Format("15:04:05.000")+" "+err.Error())
			}
		}
	}
	var vs []string
	for v := range versions {
		vs = append(vs, v)
	}
	sort.Strings(vs)
	fmt.Printf("requests %d failures %d versions %s\n", requests, failures, strings.Join(vs, ","))
	for _, f := range firstFailures {
		fmt.Println(f)
	}
	return 0
}

// addresses lists the interface addresses, loopback included, in CIDR form.
func addresses() []string {
	var out []string
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return out
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			out = append(out, n.IP.String())
		}
	}
	return out
}
