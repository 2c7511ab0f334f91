package container

import (
	"errors"
	"net"
	"testing"

	"github.com/docker/docker/errdefs"
	"golang.org/x/sys/unix"
)

func TestParseVolumeOpts(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    map[string]string
		want    *volumeOpts
		wantErr string
	}{
		{name: "none", opts: nil, want: nil},
		{name: "tmpfs", opts: map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=10m"},
			want: &volumeOpts{MountType: "tmpfs", MountDevice: "tmpfs", MountOpts: "size=10m"}},
		{name: "bind", opts: map[string]string{"type": "none", "device": "/srv/x", "o": "bind"},
			want: &volumeOpts{MountType: "none", MountDevice: "/srv/x", MountOpts: "bind"}},
		{name: "nfs", opts: map[string]string{"type": "nfs", "device": ":/export", "o": "addr=1.2.3.4,rw"},
			want: &volumeOpts{MountType: "nfs", MountDevice: ":/export", MountOpts: "addr=1.2.3.4,rw"}},
		{name: "size zero", opts: map[string]string{"size": "0"}, want: &volumeOpts{}},
		{name: "unknown", opts: map[string]string{"type": "tmpfs", "device": "tmpfs", "foo": "bar"}, wantErr: `invalid option: "foo"`},
		{name: "type alone", opts: map[string]string{"type": "tmpfs"}, wantErr: `missing required option: "device"`},
		{name: "device alone", opts: map[string]string{"device": "tmpfs"}, wantErr: `missing required option: "type"`},
		{name: "o alone", opts: map[string]string{"o": "size=1m"}, wantErr: `missing required option: "device"`},
		{name: "o and device", opts: map[string]string{"o": "size=1m", "device": "tmpfs"}, wantErr: `missing required option: "type"`},
		{name: "bad size", opts: map[string]string{"size": "lots"}, wantErr: `invalid size: 'lots'`},
		{name: "quota", opts: map[string]string{"size": "10m"}, wantErr: "quota size requested but no quota support"},
		{name: "cifs port", opts: map[string]string{"type": "cifs", "device": "//host:445/share"},
			wantErr: "port not allowed in CIFS device URL, include 'port' in 'o='"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseVolumeOpts(tc.opts)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr || !errdefs.IsInvalidParameter(err) {
					t.Fatalf("error = %v, want invalid parameter %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseMountOptions(t *testing.T) {
	for _, tc := range []struct {
		in        string
		wantFlags uintptr
		wantData  string
	}{
		{"", 0, ""},
		{"size=10m", 0, "size=10m"},
		{"bind", unix.MS_BIND, ""},
		{"rbind,rprivate", unix.MS_BIND | unix.MS_REC | unix.MS_PRIVATE, ""},
		{"addr=1.2.3.4,rw,nfsvers=4", 0, "addr=1.2.3.4,nfsvers=4"},
		{"ro,nosuid,size=1m,mode=700", unix.MS_RDONLY | unix.MS_NOSUID, "size=1m,mode=700"},
		{"ro,rw", 0, ""},
		{"noexec,exec,nodev", unix.MS_NODEV, ""},
		{"defaults", 0, "defaults"}, // moby passes it on as data too
		{"uid=1000,gid=1000,strictatime", unix.MS_STRICTATIME, "uid=1000,gid=1000"},
	} {
		flags, data := parseMountOptions(tc.in)
		if flags != tc.wantFlags || data != tc.wantData {
			t.Errorf("parseMountOptions(%q) = %#x %q, want %#x %q", tc.in, flags, data, tc.wantFlags, tc.wantData)
		}
	}
}

func TestMountSource(t *testing.T) {
	resolve := func(_, addr string) (*net.IPAddr, error) {
		switch addr {
		case "nas.example":
			return &net.IPAddr{IP: net.ParseIP("198.18.0.7")}, nil
		case "v6.example":
			return &net.IPAddr{IP: net.ParseIP("fd00::7")}, nil
		}
		return nil, errors.New("no such host")
	}
	for _, tc := range []struct {
		name                 string
		o                    volumeOpts
		wantDevice, wantOpts string
		wantErr              string
	}{
		{name: "tmpfs", o: volumeOpts{MountType: "tmpfs", MountDevice: "tmpfs", MountOpts: "size=1m"}, wantDevice: "tmpfs", wantOpts: "size=1m"},
		{name: "nfs address", o: volumeOpts{MountType: "nfs", MountDevice: ":/export", MountOpts: "addr=1.2.3.4,rw"}, wantDevice: ":/export", wantOpts: "addr=1.2.3.4,rw"},
		{name: "nfs name", o: volumeOpts{MountType: "nfs", MountDevice: ":/export", MountOpts: "rw,addr=nas.example,nfsvers=4"},
			wantDevice: ":/export", wantOpts: "rw,addr=198.18.0.7,nfsvers=4"},
		{name: "nfs v6 name", o: volumeOpts{MountType: "nfs", MountDevice: ":/e", MountOpts: "addr=v6.example"}, wantDevice: ":/e", wantOpts: "addr=fd00::7"},
		{name: "nfs unknown name", o: volumeOpts{MountType: "nfs", MountDevice: ":/e", MountOpts: "addr=nowhere"},
			wantErr: "error resolving passed in network volume address: no such host"},
		{name: "cifs host in device", o: volumeOpts{MountType: "cifs", MountDevice: "//nas.example/share", MountOpts: "username=u"},
			wantDevice: "//198.18.0.7/share", wantOpts: "username=u"},
		{name: "name not resolved for other types", o: volumeOpts{MountType: "tmpfs", MountDevice: "tmpfs", MountOpts: "addr=nas.example"},
			wantDevice: "tmpfs", wantOpts: "addr=nas.example"},
		{name: "no device", o: volumeOpts{MountType: "tmpfs"}, wantErr: "missing device in volume options"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dev, opts, err := mountSource(&tc.o, resolve)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || dev != tc.wantDevice || opts != tc.wantOpts {
				t.Fatalf("got %q %q %v, want %q %q", dev, opts, err, tc.wantDevice, tc.wantOpts)
			}
		})
	}
}
