// Package cli is the logic of the `caddy chroma-auth` subcommands: editing
// htpasswd files, making tokens and checking a configuration. It knows
// nothing of cobra, so every command is a plain function that tests call.
package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// NewFileMode is the mode of a credentials file the tools create: readable
// by its owner only.
const NewFileMode fs.FileMode = 0o600

// WriteFileAtomic replaces the file at path with data so that a reader sees
// either the old file or the new one, never a part: it writes a temporary
// file in the same directory, syncs it, renames it over path and syncs the
// directory. An existing file keeps its mode (and, where permitted, its
// owner); a new one gets NewFileMode. A symbolic link is followed: its
// target is replaced and the link stays.
func WriteFileAtomic(path string, data []byte) (err error) {
	if resolved, rerr := filepath.EvalSymlinks(path); rerr == nil {
		path = resolved
	} else if !errors.Is(rerr, fs.ErrNotExist) {
		return rerr
	}
	mode := NewFileMode
	uid, gid := -1, -1
	if st, serr := os.Stat(path); serr == nil {
		if !st.Mode().IsRegular() {
			return fmt.Errorf("%s: not a regular file", path)
		}
		mode = st.Mode().Perm()
		uid, gid = fileOwner(st)
	} else if !errors.Is(serr, fs.ErrNotExist) {
		return serr
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	// CreateTemp makes the file 0600; set the final mode before any data is
	// in it, so a wider umask never exposes it.
	if err = tmp.Chmod(mode); err != nil {
		return err
	}
	if uid >= 0 {
		_ = tmp.Chown(uid, gid) // only root may give a file away; best effort
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync() // make the rename durable; not every file system supports it
		_ = d.Close()
	}
	return nil
}

// withFileLock runs fn, an edit of the file at path, under a lock of the
// directory of the file (of its target, when path is a link), so that two
// edits at once both keep their change.
func withFileLock(path string, fn func() error) error {
	target := path
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		target = resolved
	}
	unlock, err := lockDir(filepath.Dir(target))
	if err != nil {
		return err
	}
	defer unlock()
	return fn()
}
