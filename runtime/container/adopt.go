package container

import (
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"
)

// adoptAll loads every container under DataRoot. Running ones are watched again; ones that
// exited while no Runtime watched them get their exit recorded.
func (r *Runtime) adoptAll() error {
	entries, err := os.ReadDir(filepath.Join(r.opts.DataRoot, "containers"))
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() || !idRegexp.MatchString(e.Name()) {
			continue
		}
		id := e.Name()
		dir := r.containerDir(id)
		m, err := loadMeta(dir)
		if err != nil {
			r.log.Warn("skipping container directory without a valid config", "id", id, "err", err)
			continue
		}
		c := &ctr{id: id, name: m.Spec.Name, dir: dir, meta: m, ready: true}
		r.addVolumeRefs(id, m.VolumeNames)
		policy, err := parseLogConfig(m.Spec.LogConfig)
		if err != nil { // checked at Create: only a config.json from another version
			r.log.Warn("invalid log configuration: keeping one json-file log without limit", "id", id, "err", err)
			policy = logPolicy{maxSize: -1, maxFiles: 1}
		}
		if c.logs, err = openJSONLog(filepath.Join(dir, id+"-json.log"), policy); err != nil {
			return err
		}
		r.mu.Lock()
		r.ctrs[id] = c
		r.mu.Unlock()
		c.mu.Lock()
		r.adopt(c)
		c.mu.Unlock()
	}
	return nil
}

// adopt takes over one container; c.mu is held.
func (r *Runtime) adopt(c *ctr) {
	lc := r.loadLibcontainer(c.id)
	if c.meta.State.Status != StatusRunning {
		if lc != nil { // state of a start that never completed
			_ = lc.Signal(unix.SIGKILL)
			_ = lc.Destroy()
		}
		return
	}
	exitFile := ""
	if c.meta.Spec.Init {
		exitFile = filepath.Join(r.runDir(c.id), "exitcode")
	}
	if lc != nil {
		if st, err := lc.State(); err == nil && isAlive(lc) {
			if rn, err := newRun(lc, st.InitProcessPid); err == nil {
				// Check again now that the pidfd pins the process: the PID was not reused.
				if isAlive(lc) {
					for _, name := range c.meta.VolumeNames {
						r.holdVolume(name, c.id)
					}
					close(rn.started)
					rn.exitFile = exitFile
					c.run = rn
					c.meta.State.Pid = st.InitProcessPid
					r.reopenOutput(c, rn)
					r.watch(c, rn)
					r.startHealth(c, rn)
					r.log.Info("adopted running container", "id", c.id, "pid", st.InitProcessPid)
					return
				}
				_ = rn.pidfd.Close()
			}
		}
	}
	// It exited while nobody watched.
	rn := &run{lc: lc, exitFile: exitFile, exited: make(chan struct{})}
	code, errMsg := r.unknownExitCode(rn)
	st := &c.meta.State
	st.Status, st.Pid, st.ExitCode, st.Error = StatusExited, 0, code, errMsg
	st.FinishedAt = time.Now().UTC()
	if fi, err := os.Stat(exitFile); exitFile != "" && err == nil && fi.Size() > 0 {
		st.FinishedAt = fi.ModTime().UTC()
	}
	if lc != nil {
		st.OOMKilled = oomKilled(lc)
		_ = lc.Destroy()
	}
	if st.Health != nil {
		st.Health.Status = "unhealthy"
	}
	if err := c.save(); err != nil {
		r.log.Error("save container state", "id", c.id, "err", err)
	}
	r.log.Info("container exited while shoald was away", "id", c.id, "exitCode", code)
}

func isAlive(lc *libcontainer.Container) bool {
	s, err := lc.Status()
	return err == nil && (s == libcontainer.Running || s == libcontainer.Paused)
}
