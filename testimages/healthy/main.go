// Package main is the command healthy, which is a test image program for healthchecks.
//
//	healthy          serve HTTP on :80 (or :$PORT): / answers "hello from
//	                 <hostname>", /health answers 200 "ok", or 503 while the
//	                 file $UNHEALTHY_FILE (default /tmp/unhealthy) exists
//	healthy -check   the healthcheck: GET http://127.0.0.1:$PORT/health,
//	                 exit 0 on 200 and 1 otherwise (2s timeout)
//
// So `touch /tmp/unhealthy` inside the container flips it unhealthy and `rm`
// flips it back. It exits 0 on SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	check := flag.Bool("check", false, "run the healthcheck and exit 0 (healthy) or 1")
	flag.Parse()
	port := os.Getenv("PORT")
	if port == "" {
		port = "80"
	}
	if *check {
		os.Exit(runCheck(port))
	}
	serve(port)
}

func runCheck(port string) int {
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get("http://127.0.0.1:" + port + "/health")
	if err != nil {
		fmt.Println("unhealthy:", err)
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Println("unhealthy: status", resp.StatusCode)
		return 1
	}
	fmt.Println("healthy")
	return 0
}

func serve(port string) {
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
		fmt.Fprintf(w, "hello from %s\n", host)
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
	log.Printf("healthy listening on :%s", port)
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
