// Package main is the command mkarchive, which writes the demo images (whoami, busybox, sleeper...) as a docker-archive tar that
// `docker load -i` reads: the offline path for trying shoal without any registry.
//
//	go run ./testimages/mkarchive -o bin/demo-images.tar [whoami:1 busybox:1 ...]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shoal-project/shoal/testimages/build"
)

func main() {
	out := flag.String("o", "bin/demo-images.tar", "archive to write")
	flag.Parse()
	want := map[string]bool{}
	for _, r := range flag.Args() {
		want[r] = true
	}
	if len(want) == 0 {
		want = map[string]bool{"whoami:1": true, "whoami:2": true, "busybox:1": true}
	}
	images, err := build.Standard(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkarchive:", err)
		os.Exit(1)
	}
	sel := map[string]v1.Image{}
	for _, n := range images {
		if want[n.Ref] {
			sel[n.Ref] = n.Image
		}
	}
	if len(sel) != len(want) {
		fmt.Fprintf(os.Stderr, "mkarchive: unknown image among %v\n", flag.Args())
		os.Exit(2)
	}
	if err := build.WriteArchive(*out, sel); err != nil {
		fmt.Fprintln(os.Stderr, "mkarchive:", err)
		os.Exit(1)
	}
	fmt.Println(*out)
}
