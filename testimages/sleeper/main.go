// Package main is the command sleeper, which is a test image program that sleeps until it gets SIGTERM
// or SIGINT, then prints "sleeper: got <signal>, exiting" and exits 0. Any
// arguments are printed at start, so tests can tell tasks apart in logs.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	fmt.Printf("sleeper: started %s\n", strings.Join(os.Args[1:], " "))
	s := <-sig
	fmt.Printf("sleeper: got %v, exiting\n", s)
	os.Exit(0)
}
