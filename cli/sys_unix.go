//go:build unix

package cli

import (
	"io/fs"
	"os"
	"syscall"
)

// fileOwner returns the owner of a file, or -1, -1 when unknown.
func fileOwner(fi fs.FileInfo) (uid, gid int) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), int(st.Gid)
	}
	return -1, -1
}

// lockDir takes an exclusive advisory lock on a directory, so that two
// edits of files in it (two admins running `htpasswd set` at once) run one
// after the other and neither loses the other's change. No lock file is
// left behind.
func lockDir(dir string) (unlock func(), err error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX); err != nil {
		d.Close()
		return func() {}, nil // a file system without locks: go on unlocked
	}
	return func() {
		_ = syscall.Flock(int(d.Fd()), syscall.LOCK_UN)
		d.Close()
	}, nil
}
