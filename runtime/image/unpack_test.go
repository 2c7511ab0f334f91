package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// unpackFixture is a layer dir with an "outside" sibling that must never be written.
type unpackFixture struct {
	base, dir, outside string
}

func newUnpackFixture(t *testing.T) unpackFixture {
	base := t.TempDir()
	f := unpackFixture{base: base, dir: filepath.Join(base, "layer", "diff"), outside: filepath.Join(base, "outside")}
	for _, d := range []string{f.dir, f.outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(f.outside, "secret"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// outsideUntouched checks the outside dir still holds only "secret", unchanged and not linked.
func (f unpackFixture) outsideUntouched(t *testing.T) {
	t.Helper()
	entries, err := os.ReadDir(f.outside)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "secret" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("outside dir was written: %v", names)
	}
	if got := readFile(t, filepath.Join(f.outside, "secret")); got != "secret" {
		t.Errorf("outside/secret = %q", got)
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(f.outside, "secret"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Nlink != 1 {
		t.Errorf("outside/secret has %d links", st.Nlink)
	}
	if _, err := os.Lstat(filepath.Join(f.base, "layer", "evil")); err == nil {
		t.Errorf("file written next to the layer dir")
	}
}

func TestUnpackStaysInsideLayerDir(t *testing.T) {
	tests := []struct {
		name    string
		entries func(f unpackFixture) []fileEntry
		wantErr string
		check   func(t *testing.T, f unpackFixture)
	}{
		{
			name: "dot-dot names are rooted at the layer",
			entries: func(unpackFixture) []fileEntry {
				return []fileEntry{{name: "../../evil", body: "x"}, {name: "../outside/secret", body: "x"}}
			},
			check: func(t *testing.T, f unpackFixture) {
				if got := readFile(t, filepath.Join(f.dir, "evil")); got != "x" {
					t.Errorf("evil = %q", got)
				}
			},
		},
		{
			name: "relative symlink escaping the layer is resolved inside it",
			entries: func(unpackFixture) []fileEntry {
				return []fileEntry{{name: "lnk", typ: tar.TypeSymlink, link: "../../outside"}, {name: "lnk/secret", body: "pwned"}}
			},
			check: func(t *testing.T, f unpackFixture) {
				if got := readFile(t, filepath.Join(f.dir, "outside", "secret")); got != "pwned" {
					t.Errorf("file through symlink = %q", got)
				}
			},
		},
		{
			name: "absolute symlink is resolved inside the layer",
			entries: func(f unpackFixture) []fileEntry {
				return []fileEntry{{name: "abs", typ: tar.TypeSymlink, link: f.outside}, {name: "abs/secret", body: "pwned"}}
			},
			check: func(t *testing.T, f unpackFixture) {
				if got := readFile(t, filepath.Join(f.dir, f.outside, "secret")); got != "pwned" {
					t.Errorf("file through symlink = %q", got)
				}
				if target, _ := os.Readlink(filepath.Join(f.dir, "abs")); target != f.outside {
					t.Errorf("symlink itself = %q, want it kept as written", target)
				}
			},
		},
		{
			name: "a file replaces a symlink instead of writing through it",
			entries: func(f unpackFixture) []fileEntry {
				return []fileEntry{{name: "x", typ: tar.TypeSymlink, link: filepath.Join(f.outside, "secret")}, {name: "x", body: "new"}}
			},
			check: func(t *testing.T, f unpackFixture) {
				fi, err := os.Lstat(filepath.Join(f.dir, "x"))
				if err != nil || !fi.Mode().IsRegular() {
					t.Fatalf("x is not a regular file: %v %v", fi, err)
				}
			},
		},
		{
			name: "hard link to a file outside is refused",
			entries: func(unpackFixture) []fileEntry {
				return []fileEntry{{name: "hl", typ: tar.TypeLink, link: "../outside/secret"}}
			},
			wantErr: "hard link target",
		},
		{
			name: "hard link through a symlink stays inside",
			entries: func(f unpackFixture) []fileEntry {
				return []fileEntry{{name: "s", typ: tar.TypeSymlink, link: f.outside}, {name: "hl", typ: tar.TypeLink, link: "s/secret"}}
			},
			wantErr: "hard link target",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newUnpackFixture(t)
			_, err := unpackLayer(bytes.NewReader(layerTar(t, tt.entries(f)...)), f.dir)
			switch {
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unpack: %v", err)
			}
			if tt.check != nil {
				tt.check(t, f)
			}
			f.outsideUntouched(t)
		})
	}
}

func TestUnpackWhiteoutNames(t *testing.T) {
	for _, name := range []string{".wh..", "d/.wh.."} {
		f := newUnpackFixture(t)
		_, err := unpackLayer(bytes.NewReader(layerTar(t, fileEntry{name: name})), f.dir)
		if err == nil || !strings.Contains(err.Error(), "invalid whiteout") {
			t.Errorf("%s: err = %v, want invalid whiteout", name, err)
		}
		f.outsideUntouched(t)
	}
}

func TestUnpackConvertsWhiteoutsAndKeepsAttributes(t *testing.T) {
	f := newUnpackFixture(t)
	size, err := unpackLayer(bytes.NewReader(layerTar(t,
		fileEntry{name: "etc/", typ: tar.TypeDir},
		fileEntry{name: "etc/.wh.gone"},
		fileEntry{name: "opq/.wh..wh..opq"},
		fileEntry{name: "opq/kept", body: "k"},
		fileEntry{name: ".wh..wh.plnk"},
		fileEntry{name: "bin/su", body: "binary", mode: 0o4755, uid: 42},
		fileEntry{name: "bin/ping", body: "ping", pax: map[string]string{"SCHILY.xattr.user.note": "hello"}},
		fileEntry{name: "dev/null", typ: tar.TypeChar, mode: 0o666},
		fileEntry{name: "bin/su-link", typ: tar.TypeLink, link: "bin/su"},
		fileEntry{name: "bin/sh", typ: tar.TypeSymlink, link: "busybox"},
	)), f.dir)
	if err != nil {
		t.Fatal(err)
	}
	// files once (a hard link adds nothing), symbolic links by their target's length, as Docker
	if size != int64(len("k")+len("binary")+len("ping")+len("busybox")) {
		t.Errorf("size = %d", size)
	}

	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(f.dir, "etc", "gone"), &st); err != nil {
		t.Fatalf("whiteout not created: %v", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("whiteout mode %o rdev %d, want char device 0:0", st.Mode, st.Rdev)
	}
	if _, err := os.Lstat(filepath.Join(f.dir, "etc", ".wh.gone")); err == nil {
		t.Error(".wh. file was kept")
	}
	buf := make([]byte, 8)
	n, err := unix.Lgetxattr(filepath.Join(f.dir, "opq"), opaqueXattr, buf)
	if err != nil || string(buf[:n]) != "y" {
		t.Errorf("opaque xattr = %q, %v", buf[:n], err)
	}
	if _, err := os.Lstat(filepath.Join(f.dir, ".wh..wh.plnk")); err == nil {
		t.Error("aufs metadata was kept")
	}

	fi, err := os.Stat(filepath.Join(f.dir, "bin", "su"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSetuid == 0 || fi.Mode().Perm() != 0o755 {
		t.Errorf("su mode = %v", fi.Mode())
	}
	if sys := fi.Sys().(*syscall.Stat_t); sys.Uid != 42 || sys.Nlink != 2 {
		t.Errorf("su uid %d nlink %d, want 42 and 2 (hard link)", sys.Uid, sys.Nlink)
	}
	if fi.ModTime().Unix() != 1700000000 {
		t.Errorf("mtime = %v", fi.ModTime())
	}
	n, err = unix.Lgetxattr(filepath.Join(f.dir, "bin", "ping"), "user.note", buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Errorf("xattr = %q, %v", buf[:n], err)
	}
	if err := unix.Lstat(filepath.Join(f.dir, "dev", "null"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR {
		t.Errorf("dev/null: %o %v", st.Mode, err)
	}
}

func TestEnsureVerifiesDiffIDAndUnpacksOnce(t *testing.T) {
	root := t.TempDir()
	ls, err := newLayerStore(filepath.Join(root, "layers"), root)
	if err != nil {
		t.Fatal(err)
	}
	blob := layerTar(t, fileEntry{name: "a", body: "A"})
	sum := sha256.Sum256(blob)
	diffID := "sha256:" + hex.EncodeToString(sum[:])
	opens := 0
	open := func() (io.ReadCloser, error) { opens++; return io.NopCloser(bytes.NewReader(blob)), nil }

	wrong := "sha256:" + strings.Repeat("0", 64)
	if _, err := ls.ensure(context.Background(), wrong, open); err == nil || !strings.Contains(err.Error(), "invalid diffID") {
		t.Fatalf("wrong diffID: err = %v", err)
	}
	if ls.has(wrong) {
		t.Fatal("layer with a wrong diffID was kept")
	}
	for i, wantExisted := range []bool{false, true} {
		existed, err := ls.ensure(context.Background(), diffID, open)
		if err != nil || existed != wantExisted {
			t.Fatalf("ensure #%d: existed %v err %v", i, existed, err)
		}
	}
	if opens != 2 { // once for the wrong diffID, once for the real one
		t.Errorf("blob opened %d times", opens)
	}
	if got := readFile(t, filepath.Join(ls.diffDir(diffID), "a")); got != "A" {
		t.Errorf("a = %q", got)
	}
	if li, err := ls.info(diffID); err != nil || li.Size != 1 {
		t.Errorf("info = %+v %v", li, err)
	}
}
