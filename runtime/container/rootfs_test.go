package container

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMountOverlayLayerOrder checks that the caller's lowest-first order holds, for the
// mount(2) path and for the fsconfig path taken when the layer list is longer than a page.
func TestMountOverlayLayerOrder(t *testing.T) {
	for _, n := range []int{3, 60} {
		t.Run(fmt.Sprint(n, " layers"), func(t *testing.T) {
			base := t.TempDir()
			var lower []string
			for i := range n {
				// Long names push 60 layers past one page of mount options.
				d := filepath.Join(base, fmt.Sprintf("layer-%03d-%s", i, strings.Repeat("x", 60)))
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(d, "top"), []byte(fmt.Sprint(i)), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(d, fmt.Sprint("only-", i)), nil, 0o644); err != nil {
					t.Fatal(err)
				}
				lower = append(lower, d)
			}
			upper, work, target := filepath.Join(base, "upper"), filepath.Join(base, "work"), filepath.Join(base, "merged")
			for _, d := range []string{upper, work, target} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := mountOverlay(lower, upper, work, target); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = unmountAll(target) })
			if b, err := os.ReadFile(filepath.Join(target, "top")); err != nil || string(b) != fmt.Sprint(n-1) {
				t.Fatalf("top = %q %v, want the last layer's", b, err)
			}
			if _, err := os.Stat(filepath.Join(target, "only-0")); err != nil {
				t.Fatal(err)
			}
			// Mounting again is a no-op.
			if err := mountOverlay(lower, upper, work, target); err != nil {
				t.Fatal(err)
			}
			if err := unmountAll(target); err != nil {
				t.Fatal(err)
			}
			if isMounted(t, target) {
				t.Fatal("still mounted")
			}
		})
	}
}
