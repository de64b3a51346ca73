package providers

import (
	"fmt"
	"strconv"
)

// FileError is a problem in a credentials file. It names the file, the line
// (when there is one) and the user or entry, and never quotes a secret: no
// password, hash or token is ever part of the message.
type FileError struct {
	File string // path as configured
	Line int    // 1-based; 0 when the problem is not on one line
	Who  string // user name or entry, "" when none applies
	Msg  string
}

func (e *FileError) Error() string {
	if e.Who != "" {
		return fmt.Sprintf("%s: %s: %s", e.where(), e.Who, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.where(), e.Msg)
}

// where is "file:line", or the file alone when no line applies.
func (e *FileError) where() string {
	if e.Line > 0 {
		return e.File + ":" + strconv.Itoa(e.Line)
	}
	return e.File
}

func fileErr(file string, line int, who, format string, args ...any) *FileError {
	return &FileError{File: file, Line: line, Who: who, Msg: fmt.Sprintf(format, args...)}
}
