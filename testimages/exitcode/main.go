// Package main is the command exitcode, a test image program that exits with a chosen code:
//
//	exitcode [CODE [DELAY]]
//
// CODE defaults to $EXIT_CODE, then 0; DELAY (a Go duration such as 2s)
// defaults to $DELAY, then 0. It prints "exitcode: exiting with CODE" first.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	code, delay := os.Getenv("EXIT_CODE"), os.Getenv("DELAY")
	if len(os.Args) > 1 {
		code = os.Args[1]
	}
	if len(os.Args) > 2 {
		delay = os.Args[2]
	}
	n := 0
	if code != "" {
		var err error
		if n, err = strconv.Atoi(code); err != nil {
			fmt.Fprintf(os.Stderr, "exitcode: bad code %q: %v\n", code, err)
			os.Exit(2)
		}
	}
	if delay != "" {
		d, err := time.ParseDuration(delay)
		if err != nil {
			fmt.Fprintf(os.Stderr, "exitcode: bad delay %q: %v\n", delay, err)
			os.Exit(2)
		}
		time.Sleep(d)
	}
	fmt.Printf("exitcode: exiting with %d\n", n)
	os.Exit(n)
}
