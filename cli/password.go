package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"golang.org/x/term"
)

// ReadPassword reads a password the way Caddy's hash-password does. When
// stdin is a terminal it prompts on prompt (stderr) without echo and, when
// confirm is set, asks again and compares; otherwise it reads the first
// line of stdin (its \n or \r\n removed), so that
// `printf '%s\n' "$PW" | caddy chroma-auth htpasswd add ...` works. The
// password is never taken from the command line here.
func ReadPassword(stdin io.Reader, prompt io.Writer, confirm bool) ([]byte, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fd := int(f.Fd())
		// Restore the terminal's echo if interrupted mid-prompt.
		state, _ := term.GetState(fd)
		c := make(chan os.Signal, 1)
		signal.Notify(c, os.Interrupt)
		done := make(chan struct{})
		defer func() { signal.Stop(c); close(done) }()
		go func() {
			select {
			case <-c:
				if state != nil {
					_ = term.Restore(fd, state)
				}
				fmt.Fprintln(prompt)
				os.Exit(1)
			case <-done:
			}
		}()
		return promptPassword(func() ([]byte, error) { return term.ReadPassword(fd) }, prompt, confirm)
	}
	return readPasswordLine(stdin)
}

// promptPassword asks for a password with read, which reads a terminal
// without echo, and for its confirmation.
func promptPassword(read func() ([]byte, error), prompt io.Writer, confirm bool) ([]byte, error) {
	fmt.Fprint(prompt, "Password: ")
	pw, err := read()
	fmt.Fprintln(prompt)
	if err != nil {
		return nil, err
	}
	if err := CheckPassword(pw); err != nil {
		return nil, err
	}
	if confirm {
		fmt.Fprint(prompt, "Confirm password: ")
		again, err := read()
		fmt.Fprintln(prompt)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(pw, again) {
			return nil, errors.New("passwords do not match")
		}
	}
	return pw, nil
}

// readPasswordLine reads the first line of r as the password.
func readPasswordLine(r io.Reader) ([]byte, error) {
	br := bufio.NewReaderSize(io.LimitReader(r, 4096), 4096)
	line, err := br.ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading the password from stdin: %w", err)
	}
	if trimmed, ok := bytes.CutSuffix(line, []byte("\n")); ok {
		line = bytes.TrimSuffix(trimmed, []byte("\r"))
	}
	if len(line) == 0 {
		return nil, errors.New("no password on stdin: pipe one line, or run in a terminal to be prompted")
	}
	if err := CheckPassword(line); err != nil {
		return nil, err
	}
	return line, nil
}
