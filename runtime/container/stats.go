package container

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/opencontainers/cgroups"
)

// Stats reads the container's cgroup counters once, in the shape of Docker's stats API.
// PreCPUStats and PreRead are left for the caller, who keeps the previous sample; Networks
// are left to the network layer.
func (r *Runtime) Stats(ref string) (*containertypes.StatsResponse, error) {
	c, err := r.lookup(ref)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	rn, ok := c.running()
	name := c.name
	c.mu.Unlock()
	if !ok {
		return nil, errNotRunning(c.id)
	}
	st, err := rn.lc.Stats()
	if err != nil {
		return nil, fmt.Errorf("read container stats: %w", err)
	}
	resp := &containertypes.StatsResponse{ID: c.id, Name: "/" + name, Read: time.Now().UTC()}
	if st.CgroupStats != nil {
		fillStats(resp, st.CgroupStats, hostMemory())
	}
	resp.CPUStats.SystemUsage = systemCPUUsage()
	resp.CPUStats.OnlineCPUs = uint32(runtime.NumCPU())
	return resp, nil
}

// fillStats copies cgroup counters into Docker's stats shape, as dockerd does for cgroup v1
// (and the same fields for v2).
func fillStats(resp *containertypes.StatsResponse, cg *cgroups.Stats, machineMemory uint64) {
	cpu := cg.CpuStats
	resp.CPUStats.CPUUsage = containertypes.CPUUsage{
		TotalUsage:        cpu.CpuUsage.TotalUsage,
		PercpuUsage:       cpu.CpuUsage.PercpuUsage,
		UsageInKernelmode: cpu.CpuUsage.UsageInKernelmode,
		UsageInUsermode:   cpu.CpuUsage.UsageInUsermode,
	}
	resp.CPUStats.ThrottlingData = containertypes.ThrottlingData{
		Periods:          cpu.ThrottlingData.Periods,
		ThrottledPeriods: cpu.ThrottlingData.ThrottledPeriods,
		ThrottledTime:    cpu.ThrottlingData.ThrottledTime,
	}
	mem := cg.MemoryStats
	resp.MemoryStats = containertypes.MemoryStats{
		Usage:    mem.Usage.Usage,
		MaxUsage: mem.Usage.MaxUsage,
		Failcnt:  mem.Usage.Failcnt,
		Limit:    mem.Usage.Limit,
		Stats:    mem.Stats,
	}
	if resp.MemoryStats.Limit == 0 || (machineMemory > 0 && resp.MemoryStats.Limit > machineMemory) {
		resp.MemoryStats.Limit = machineMemory
	}
	resp.PidsStats = containertypes.PidsStats{Current: cg.PidsStats.Current, Limit: cg.PidsStats.Limit}
	blk := func(in []cgroups.BlkioStatEntry) []containertypes.BlkioStatEntry {
		out := make([]containertypes.BlkioStatEntry, len(in))
		for i, e := range in {
			out[i] = containertypes.BlkioStatEntry{Major: e.Major, Minor: e.Minor, Op: e.Op, Value: e.Value}
		}
		return out
	}
	b := cg.BlkioStats
	resp.BlkioStats = containertypes.BlkioStats{
		IoServiceBytesRecursive: blk(b.IoServiceBytesRecursive),
		IoServicedRecursive:     blk(b.IoServicedRecursive),
		IoQueuedRecursive:       blk(b.IoQueuedRecursive),
		IoServiceTimeRecursive:  blk(b.IoServiceTimeRecursive),
		IoWaitTimeRecursive:     blk(b.IoWaitTimeRecursive),
		IoMergedRecursive:       blk(b.IoMergedRecursive),
		IoTimeRecursive:         blk(b.IoTimeRecursive),
		SectorsRecursive:        blk(b.SectorsRecursive),
	}
}

// systemCPUUsage is the host's total CPU time in nanoseconds, from /proc/stat, as dockerd
// computes system_cpu_usage.
func systemCPUUsage() uint64 {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 8 || fields[0] != "cpu" {
			continue
		}
		var ticks uint64
		for _, v := range fields[1:8] {
			n, _ := strconv.ParseUint(v, 10, 64)
			ticks += n
		}
		const clockTicks = 100
		return ticks * uint64(time.Second) / clockTicks
	}
	return 0
}

// hostMemory is the host's total memory in bytes.
func hostMemory() uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
