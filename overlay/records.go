package overlay

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// A record keeps what a sandbox is made of, so that the next shoald can serve it again: its
// namespace, attachments and DNS upstreams. One JSON file per task, written atomically.

func saveRecord(dir string, sb *sandbox) error {
	b, err := json.Marshal(sb)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".rec-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), filepath.Join(dir, sb.TaskID+".json"))
}

func removeRecord(dir, taskID string) {
	os.Remove(filepath.Join(dir, taskID+".json"))
}

func loadRecords(dir string, log *slog.Logger) []*sandbox {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []*sandbox
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		var sb sandbox
		if err := json.Unmarshal(b, &sb); err != nil || sb.TaskID == "" || sb.NSPath == "" {
			log.Warn("overlay: unreadable sandbox record", "file", e.Name(), "err", err)
			continue
		}
		out = append(out, &sb)
	}
	return out
}
