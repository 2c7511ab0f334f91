package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/docker/docker/errdefs"
)

// The volumes as the Engine API's /volumes endpoints see them: listed from
// <data-root>/volumes, with the labels and options they were created with (volume.json) and the
// containers that use them. As in dockerd, a container uses the volumes it mounts from its
// creation to its removal, whether it runs or not, and a volume in use cannot be removed.

// AnonymousVolumeLabel marks the volumes whose name the daemon made up (a volume mount without a
// source, or a volume created without a name), as dockerd's volume service does. `docker volume
// prune` removes only those unless told otherwise.
const AnonymousVolumeLabel = "com.docker.volume.anonymous"

var (
	// ErrNoSuchVolume: no volume has that name (errdefs.NotFound, "get <name>: no such volume").
	ErrNoSuchVolume = errors.New("no such volume")
	// ErrVolumeInUse: a container uses the volume (errdefs.Conflict,
	// "remove <name>: volume is in use - [<container IDs>]").
	ErrVolumeInUse = errors.New("volume is in use")
)

func errNoSuchVolume(name string) error {
	return errdefs.NotFound(&kindError{fmt.Sprintf("get %s: no such volume", name), ErrNoSuchVolume})
}

func errVolumeInUse(name string, users []string) error {
	return errdefs.Conflict(&kindError{fmt.Sprintf("remove %s: volume is in use - [%s]", name, strings.Join(users, ", ")), ErrVolumeInUse})
}

// Volume is one local volume.
type Volume struct {
	Name       string
	Mountpoint string    // <data-root>/volumes/<name>/_data
	CreatedAt  time.Time // when its directory was made (its ctime, as dockerd reports it)
	// Labels and Options (the local driver's options: type, device, o) are those given when the
	// volume was created; nil when there were none.
	Labels  map[string]string
	Options map[string]string
	// UsedBy lists the IDs of the containers that mount it, sorted.
	UsedBy []string
}

// volumeMetaFile holds a volume's labels and options, as dockerd keeps them in its volume store.
const volumeMetaFile = "volume.json"

type volumeMeta struct {
	Labels  map[string]string `json:"labels,omitempty"`
	Options map[string]string `json:"options,omitempty"`
}

func (r *Runtime) saveVolumeMeta(name string, m volumeMeta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(r.volumeDir(name), volumeMetaFile), b, 0o600)
}

// loadVolumeMeta reads a volume's labels and options. A volume made before they were kept has
// no labels, and the options of its opts.json.
func (r *Runtime) loadVolumeMeta(name string) (volumeMeta, error) {
	var m volumeMeta
	b, err := os.ReadFile(filepath.Join(r.volumeDir(name), volumeMetaFile))
	if err == nil {
		if err := json.Unmarshal(b, &m); err != nil {
			return m, fmt.Errorf("volume %s: %s: %w", name, volumeMetaFile, err)
		}
		return m, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return m, err
	}
	vo, err := r.loadVolumeOpts(name)
	if err != nil || vo == nil {
		return m, err
	}
	m.Options = map[string]string{}
	for k, v := range map[string]string{"type": vo.MountType, "device": vo.MountDevice, "o": vo.MountOpts} {
		if v != "" {
			m.Options[k] = v
		}
	}
	return m, nil
}

// addVolumeRefLocked records ref (a container ID; "" records nothing) as a user of the volume;
// volMu is held.
func (r *Runtime) addVolumeRefLocked(name, ref string) {
	if ref == "" {
		return
	}
	if r.volRefs[name] == nil {
		r.volRefs[name] = map[string]bool{}
	}
	r.volRefs[name][ref] = true
}

// addVolumeRefs records the container id as a user of the volumes named in names (values).
func (r *Runtime) addVolumeRefs(id string, names map[string]string) {
	r.volMu.Lock()
	defer r.volMu.Unlock()
	for _, name := range names {
		r.addVolumeRefLocked(name, id)
	}
}

// dropVolumeRefs forgets the container id as a user of any volume.
func (r *Runtime) dropVolumeRefs(id string) {
	r.volMu.Lock()
	defer r.volMu.Unlock()
	for name, refs := range r.volRefs {
		delete(refs, id)
		if len(refs) == 0 {
			delete(r.volRefs, name)
		}
	}
}

// volumeUsersLocked lists the containers that use a volume, sorted: those that mount it and those
// that hold its file system mounted (an adopted container, a copy in progress); volMu is held.
func (r *Runtime) volumeUsersLocked(name string) []string {
	set := map[string]bool{}
	for id := range r.volRefs[name] {
		set[id] = true
	}
	for h := range r.volHolders[name] {
		set[strings.TrimPrefix(h, "populate:")] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// validVolumeName reports whether name can be a local volume's (and so a directory name).
func validVolumeName(name string) bool {
	return volumeNameRegexp.MatchString(name)
}

// Volumes lists the node's volumes, sorted by name. A directory under <data-root>/volumes without
// _data (a creation in progress or cut short) is not a volume.
func (r *Runtime) Volumes() ([]Volume, error) {
	entries, err := os.ReadDir(filepath.Join(r.opts.DataRoot, "volumes"))
	if err != nil {
		return nil, err
	}
	var out []Volume
	for _, e := range entries {
		if !e.IsDir() || !validVolumeName(e.Name()) {
			continue
		}
		v, err := r.Volume(e.Name())
		if errors.Is(err, ErrNoSuchVolume) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Volume returns one volume by its name: errdefs.NotFound "get <name>: no such volume" when there
// is none.
func (r *Runtime) Volume(name string) (Volume, error) {
	if !validVolumeName(name) {
		return Volume{}, errNoSuchVolume(name)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(r.volumeDataDir(name), &st); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Volume{}, errNoSuchVolume(name)
		}
		return Volume{}, err
	}
	if err := syscall.Stat(r.volumeDir(name), &st); err != nil {
		return Volume{}, err
	}
	meta, err := r.loadVolumeMeta(name)
	if err != nil {
		return Volume{}, err
	}
	r.volMu.Lock()
	users := r.volumeUsersLocked(name)
	r.volMu.Unlock()
	return Volume{
		Name:       name,
		Mountpoint: r.volumeDataDir(name),
		CreatedAt:  time.Unix(st.Ctim.Unix()),
		Labels:     meta.Labels,
		Options:    meta.Options,
		UsedBy:     users,
	}, nil
}

// CreateVolume creates a volume of the local driver with its options (type, device, o; checked
// with dockerd's texts) and labels, as POST /volumes/create: an empty name makes an anonymous
// volume, named with 64 hex digits and labelled AnonymousVolumeLabel. Creating a volume that
// exists returns it as it is, its options and labels unchanged, as dockerd does.
func (r *Runtime) CreateVolume(name string, opts, labels map[string]string) (Volume, error) {
	if name == "" {
		name = newAnonymousVolumeName()
		labels = maps.Clone(labels)
		if labels == nil {
			labels = map[string]string{}
		}
		labels[AnonymousVolumeLabel] = ""
	}
	if _, err := r.ensureVolume(name, "", "", opts, labels); err != nil {
		return Volume{}, err
	}
	return r.Volume(name)
}

// RemoveVolume removes a volume that no container uses: errdefs.NotFound "get <name>: no such
// volume" if there is none, errdefs.Conflict "remove <name>: volume is in use - [<ids>]" while a
// container (running or not) mounts it. A volume with options is unmounted first: the content of
// a bind or network file system is never deleted.
func (r *Runtime) RemoveVolume(name string) error {
	if _, err := r.Volume(name); err != nil {
		return err
	}
	return r.removeVolume(name)
}

// DirSize is the size of the files under dir, each hard-linked file counted once, as dockerd
// measures volumes and containers' writable layers. Files that vanish during the walk are
// skipped.
func DirSize(ctx context.Context, dir string) (int64, error) {
	var size int64
	seen := map[uint64]bool{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			if p != dir && errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if fi.IsDir() || fi.Size() == 0 {
			return nil
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if ok {
			if seen[st.Ino] {
				return nil
			}
			seen[st.Ino] = true
		}
		size += fi.Size()
		return nil
	})
	return size, err
}
