package container

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
)

// Top lists the container's processes like docker top: the host's ps run with psArgs
// (default "-ef"), keeping the rows of the container's processes. Without a ps binary only the
// default columns UID PID PPID C STIME TTY TIME CMD are available, read from /proc.
func (r *Runtime) Top(ref string, psArgs string) (*containertypes.TopResponse, error) {
	if psArgs == "" {
		psArgs = "-ef"
	}
	if err := validatePSArgs(psArgs); err != nil {
		return nil, invalidf("%v", err)
	}
	c, err := r.lookup(ref)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	rn, ok := c.running()
	c.mu.Unlock()
	if !ok {
		return nil, errNotRunning(c.id)
	}
	pids, err := rn.lc.Processes()
	if err != nil {
		return nil, fmt.Errorf("list container processes: %w", err)
	}
	slices.Sort(pids)
	if ps, err := exec.LookPath("ps"); err == nil {
		args := strings.Split(psArgs, " ")
		out, err := exec.Command(ps, append(args, psPidsArg(pids))...).Output()
		if err != nil {
			out, err = exec.Command(ps, args...).Output()
		}
		if err != nil {
			msg := err.Error()
			if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
				msg = strings.TrimSpace(strings.SplitN(string(ee.Stderr), "\n", 2)[0])
			}
			return nil, invalidf("Error running ps: %s", msg)
		}
		return parsePSOutput(out, pids)
	}
	if psArgs != "-ef" {
		return nil, invalidf("Error running ps: no ps binary on this host for arguments %q", psArgs)
	}
	return procTop(pids, time.Now())
}

var psArgsRegexp = regexp.MustCompile(`\s+([^\s]*)=\s*(PID[^\s]*)`)

func validatePSArgs(psArgs string) error {
	for _, group := range psArgsRegexp.FindAllStringSubmatch(psArgs, -1) {
		if len(group) >= 3 && group[1] != "pid" {
			return fmt.Errorf(`specifying "%s=%s" is not allowed`, group[1], group[2])
		}
	}
	return nil
}

func psPidsArg(pids []int) string {
	s := make([]string, len(pids))
	for i, p := range pids {
		s[i] = strconv.Itoa(p)
	}
	return "-q" + strings.Join(s, ",")
}

// parsePSOutput keeps the rows of ps output whose PID is one of pids (and the "-" rows of
// threads that follow them), as dockerd does.
func parsePSOutput(output []byte, pids []int) (*containertypes.TopResponse, error) {
	lines := strings.Split(string(output), "\n")
	resp := &containertypes.TopResponse{Titles: strings.Fields(lines[0]), Processes: [][]string{}}
	pidIndex := slices.Index(resp.Titles, "PID")
	if pidIndex < 0 {
		return nil, fmt.Errorf("Couldn't find PID field in ps output")
	}
	prevKept := false
	for _, line := range lines[1:] {
		fields := strings.Fields(line)
		if len(fields) == 0 || len(fields) < len(resp.Titles) {
			continue
		}
		row := append(fields[:len(resp.Titles)-1:len(resp.Titles)-1], strings.Join(fields[len(resp.Titles)-1:], " "))
		if fields[pidIndex] == "-" {
			if prevKept {
				resp.Processes = append(resp.Processes, row)
			}
			continue
		}
		p, err := strconv.Atoi(fields[pidIndex])
		if err != nil {
			return nil, fmt.Errorf("Unexpected pid '%s': %s", fields[pidIndex], err)
		}
		prevKept = slices.Contains(pids, p)
		if prevKept {
			resp.Processes = append(resp.Processes, row)
		}
	}
	return resp, nil
}

// procTop builds "ps -ef" rows from /proc.
func procTop(pids []int, now time.Time) (*containertypes.TopResponse, error) {
	resp := &containertypes.TopResponse{
		Titles:    []string{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"},
		Processes: [][]string{},
	}
	const clkTck = 100
	uptime := readUptime()
	boot := now.Add(-time.Duration(uptime * float64(time.Second)))
	for _, pid := range pids {
		dir := filepath.Join("/proc", strconv.Itoa(pid))
		stat, err := os.ReadFile(filepath.Join(dir, "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp session tty_nr ... utime(14) stime(15) ... starttime(22)
		end := bytes.LastIndexByte(stat, ')')
		if end < 0 {
			continue
		}
		comm := string(stat[bytes.IndexByte(stat, '(')+1 : end])
		f := strings.Fields(string(stat[end+2:]))
		if len(f) < 20 {
			continue
		}
		ppid := f[1]
		ttyNr, _ := strconv.Atoi(f[4])
		utime, _ := strconv.ParseUint(f[11], 10, 64)
		stime, _ := strconv.ParseUint(f[12], 10, 64)
		start, _ := strconv.ParseUint(f[19], 10, 64)
		cpu := time.Duration(utime+stime) * time.Second / clkTck
		started := boot.Add(time.Duration(start) * time.Second / clkTck)
		elapsed := now.Sub(started).Seconds()
		c := 0
		if elapsed > 0 {
			c = int(cpu.Seconds() * 100 / elapsed)
		}
		uid := "?"
		if st, err := os.Stat(dir); err == nil {
			uid = uidName(st)
		}
		cmd := "[" + comm + "]"
		if b, err := os.ReadFile(filepath.Join(dir, "cmdline")); err == nil && len(b) > 0 {
			cmd = strings.TrimSpace(strings.ReplaceAll(string(bytes.TrimRight(b, "\x00")), "\x00", " "))
		}
		resp.Processes = append(resp.Processes, []string{
			uid, strconv.Itoa(pid), ppid, strconv.Itoa(c), psStartTime(started, now), ttyName(ttyNr), psTime(cpu), cmd,
		})
	}
	return resp, nil
}

func readUptime() float64 {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

func uidName(st os.FileInfo) string {
	uid := fmt.Sprint(statUID(st))
	if u, err := user.LookupId(uid); err == nil {
		return u.Username
	}
	return uid
}

// psStartTime is ps's STIME: HH:MM today, "Jan02" this year, else the year.
func psStartTime(t, now time.Time) string {
	switch {
	case t.YearDay() == now.YearDay() && t.Year() == now.Year():
		return t.Format("15:04")
	case t.Year() == now.Year():
		return t.Format("Jan02")
	}
	return t.Format("2006")
}

// psTime is ps's TIME: [DD-]HH:MM:SS of CPU time.
func psTime(d time.Duration) string {
	s := int(d.Seconds())
	days, h, m := s/86400, s/3600%24, s/60%60
	if days > 0 {
		return fmt.Sprintf("%d-%02d:%02d:%02d", days, h, m, s%60)
	}
	return fmt.Sprintf("%02d:%02d:%02d", h, m, s%60)
}

// ttyName names a tty_nr from /proc/<pid>/stat ("?" for none).
func ttyName(nr int) string {
	if nr == 0 {
		return "?"
	}
	major, minor := (nr>>8)&0xfff, (nr&0xff)|((nr>>12)&0xfff00)
	switch {
	case major == 136:
		return fmt.Sprintf("pts/%d", minor)
	case major == 4:
		return fmt.Sprintf("tty%d", minor)
	}
	return "?"
}

func statUID(st os.FileInfo) uint32 {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return s.Uid
	}
	return 0
}
