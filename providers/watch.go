package providers

import (
	"os"
	"time"
)

// DefaultReloadInterval is how often credential files are checked for
// changes.
const DefaultReloadInterval = 2 * time.Second

// fileStamp is what tells a file changed: editors that write in place
// change size or mtime; those that write a new file and rename it (vim,
// `htpasswd`, our own tools, Kubernetes secrets) change the inode.
type fileStamp struct {
	exists bool
	size   int64
	mtime  time.Time
	ino    uint64
}

func stamp(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	s := fileStamp{exists: true, size: fi.Size(), mtime: fi.ModTime()}
	s.ino = inode(fi)
	return s
}

// Watch polls files every interval and calls onChange (from its own
// goroutine) whenever any of them changed since the last look. Polling
// rather than inotify: it needs no dependency, works on every file system
// and survives files being replaced by rename or symlink swaps. The
// returned function stops the watch and waits for it to end.
func Watch(files []string, interval time.Duration, onChange func()) (stop func()) {
	return watch(files, interval, onChange, nil)
}

// watch is Watch, calling polled (when not nil) after every look at the
// files: tests wait for looks, rather than sleeping, before asserting that
// nothing was called.
func watch(files []string, interval time.Duration, onChange, polled func()) (stop func()) {
	if interval <= 0 {
		interval = DefaultReloadInterval
	}
	last := make([]fileStamp, len(files))
	for i, f := range files {
		last[i] = stamp(f)
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			changed := false
			for i, f := range files {
				if s := stamp(f); s != last[i] {
					last[i] = s
					changed = true
				}
			}
			if changed {
				onChange()
			}
			if polled != nil {
				polled()
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
