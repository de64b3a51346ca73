package cli

import (
	"errors"
	"fmt"
	"io"
)

// Exit codes of the commands.
const (
	ExitOK     = 0
	ExitFailed = 1 // the command failed, or verify's password is wrong
)

// IO is where a command reads and writes.
type IO struct {
	Stdin  io.Reader // the password, when not prompted
	Stdout io.Writer // results
	Stderr io.Writer // prompts and notes
}

// HtpasswdArgs are the arguments of `caddy chroma-auth htpasswd <op>`.
type HtpasswdArgs struct {
	Op   string // add, set, remove or verify
	File string
	User string
	Cost int // bcrypt cost; 0 for the default
	// PasswordFromArgv takes the password from Args[0]. Off by default: a
	// password on the command line shows in `ps` and in shell history.
	PasswordFromArgv bool
	Args             []string // positional arguments
}

// RunHtpasswd runs `caddy chroma-auth htpasswd <op>`: it returns the exit
// code and the error to report. No password or hash is ever printed.
func RunHtpasswd(rw IO, a HtpasswdArgs) (int, error) {
	switch a.Op {
	case "add", "set", "remove", "verify":
	default:
		return ExitFailed, fmt.Errorf("htpasswd: unknown operation %q: want add, set, remove or verify", a.Op)
	}
	if a.File == "" {
		return ExitFailed, errors.New("htpasswd: --file is required")
	}
	if a.User == "" {
		return ExitFailed, errors.New("htpasswd: --user is required")
	}
	if a.Op == "remove" {
		if len(a.Args) > 0 || a.PasswordFromArgv {
			return ExitFailed, errors.New("htpasswd remove: takes no password")
		}
		left, err := HtpasswdRemove(a.File, a.User)
		if err != nil {
			return ExitFailed, err
		}
		fmt.Fprintf(rw.Stdout, "removed user %q from %s\n", a.User, a.File)
		if left == 0 {
			fmt.Fprintf(rw.Stderr, "note: %s has no users left; chroma_auth refuses to load an empty htpasswd file\n", a.File)
		}
		return ExitOK, nil
	}
	if a.Op != "verify" {
		if err := CheckUser(a.User); err != nil {
			return ExitFailed, fmt.Errorf("htpasswd %s: %w", a.Op, err)
		}
		if a.Cost != 0 {
			if err := CheckCost(a.Cost); err != nil {
				return ExitFailed, err // before asking for a password
			}
		}
	}
	var pw []byte
	switch {
	case a.PasswordFromArgv:
		if len(a.Args) != 1 {
			return ExitFailed, errors.New("htpasswd: --password-from-argv wants the password as the one argument")
		}
		pw = []byte(a.Args[0])
		if err := CheckPassword(pw); err != nil {
			return ExitFailed, err
		}
	case len(a.Args) > 0:
		return ExitFailed, errors.New("htpasswd: unexpected argument; the password is read from stdin or a prompt, " +
			"not the command line (it would show in ps and shell history); add --password-from-argv to insist")
	default:
		var err error
		if pw, err = ReadPassword(rw.Stdin, rw.Stderr, a.Op != "verify"); err != nil {
			return ExitFailed, err
		}
	}
	switch a.Op {
	case "add":
		if err := HtpasswdAdd(a.File, a.User, pw, a.Cost); err != nil {
			return ExitFailed, err
		}
		fmt.Fprintf(rw.Stdout, "added user %q to %s\n", a.User, a.File)
	case "set":
		added, err := HtpasswdSet(a.File, a.User, pw, a.Cost)
		if err != nil {
			return ExitFailed, err
		}
		if added {
			fmt.Fprintf(rw.Stdout, "added user %q to %s\n", a.User, a.File)
		} else {
			fmt.Fprintf(rw.Stdout, "changed the password of user %q in %s\n", a.User, a.File)
		}
	case "verify":
		if err := HtpasswdVerify(a.File, a.User, pw); err != nil {
			return ExitFailed, err
		}
		fmt.Fprintf(rw.Stdout, "password of user %q is correct\n", a.User)
	}
	return ExitOK, nil
}

// RunToken runs `caddy chroma-auth token`: it prints a new random token.
func RunToken(rw IO, nbytes int) (int, error) {
	tok, err := NewToken(nbytes)
	if err != nil {
		return ExitFailed, err
	}
	fmt.Fprintln(rw.Stdout, tok)
	return ExitOK, nil
}

// RunCheck runs `caddy chroma-auth check`: the report goes to stdout, and
// the exit code is non-zero when the config has any error.
func RunCheck(rw IO, opts CheckOptions) (int, error) {
	opts.Out = rw.Stdout
	res, err := Check(opts)
	if err != nil {
		return ExitFailed, err
	}
	if res.Errors > 0 {
		return ExitFailed, fmt.Errorf("check: %d error(s) in %s", res.Errors, opts.Config)
	}
	return ExitOK, nil
}
