package harness

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// proc identifies a process across pid reuse: its pid and start time.
type proc struct {
	pid   int
	start uint64 // field 22 of /proc/PID/stat, in clock ticks since boot
}

// procStat reads the parent pid and start time of pid.
func procStat(pid int) (ppid int, start uint64, ok bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// The command name is in parentheses and may hold spaces: cut after it.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, 0, false
	}
	fields := strings.Fields(string(data[i+1:]))
	// fields[0] is state (field 3); ppid is field 4, starttime field 22.
	if len(fields) < 20 {
		return 0, 0, false
	}
	ppid, _ = strconv.Atoi(fields[1])
	start, _ = strconv.ParseUint(fields[19], 10, 64)
	return ppid, start, true
}

// descendants returns pid and every process below it in the process tree.
func descendants(pid int) []proc {
	children := map[int][]int{}
	starts := map[int]uint64{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ppid, start, ok := procStat(p)
		if !ok {
			continue
		}
		children[ppid] = append(children[ppid], p)
		starts[p] = start
	}
	var out []proc
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if start, ok := starts[p]; ok {
			out = append(out, proc{pid: p, start: start})
		}
		queue = append(queue, children[p]...)
	}
	return out
}

// alive reports whether p still runs (same pid and start time, not a zombie).
func (p proc) alive() bool {
	_, start, ok := procStat(p.pid)
	if !ok || start != p.start {
		return false
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(p.pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(data, ')')
	return i < 0 || i+2 >= len(data) || data[i+2] != 'Z'
}

// killAll SIGKILLs every process of ps that is still the same process, and
// waits (up to 10s) until they are gone. It returns the ones still alive.
func killAll(ps []proc) []proc {
	for _, p := range ps {
		if p.alive() {
			_ = syscall.Kill(p.pid, syscall.SIGKILL)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var left []proc
		for _, p := range ps {
			if p.alive() {
				left = append(left, p)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mountsUnder lists the mount points at or below dir, deepest first, from
// /proc/self/mountinfo.
func mountsUnder(dir string) []string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	dir = filepath.Clean(dir)
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		mp := unescapeMountPath(f[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space...).
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unmountAll lazily unmounts every mount at or below dir, deepest first, and
// returns what is still mounted there afterwards, with the errors seen.
func unmountAll(dir string) []string {
	errs := map[string]string{}
	for range 3 { // a mount may hide others at the same point
		mps := mountsUnder(dir)
		if len(mps) == 0 {
			return nil
		}
		for _, mp := range mps {
			if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil {
				errs[mp] = err.Error()
			}
		}
	}
	var left []string
	for _, mp := range mountsUnder(dir) {
		left = append(left, mp+": "+errs[mp])
	}
	return left
}
