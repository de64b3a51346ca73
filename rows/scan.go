package rows

import (
	"errors"
	"fmt"
	"io"
	"sync"
)

// ErrBadBody: the body is not the JSON the route takes. The gateway
// refuses it (Chroma would too) rather than guess what it means.
var ErrBadBody = errors.New("request body the gateway cannot filter")

// ErrForbidden: the body asks for what the identity's rows forbid (a
// record that sets a row key to another value). Nothing is forwarded whole.
var ErrForbidden = errors.New("forbidden by the identity's rows")

// maxDepth bounds nesting (serde_json, Chroma's parser, stops at 128).
const maxDepth = 256

// maxCapture bounds a value the rewrite holds whole: a where clause, a
// record's metadata value, the ids of a write, one operation of a
// conditional commit.
const maxCapture = 64 << 20

func bad(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadBody, fmt.Sprintf(format, args...))
}

// scanner reads JSON from r and copies what it consumes to w (while out
// is on), byte for byte: the bytes between start and pos are consumed and
// not yet handed on. A capture (from capFrom) is a slice of the window
// while it lasts; the part of it in earlier windows is copied to cap
// before they are dropped.
type scanner struct {
	r       io.Reader
	w       io.Writer
	buf     []byte
	pooled  *[]byte
	pos, n  int
	start   int
	out     bool
	capture bool
	capFrom int
	cap     []byte
	eof     bool
	err     error
	depth   int
	plain   bool // the string str last read is printable ASCII, no escape
	// the next '"' or ']' at or after pos in buf[:n] (n: none), as
	// flatEnd last found it; stale once pos has passed it.
	stopAt int
	noSkip bool // flatEnd off: the tests' strict oracle
}

// bufPool keeps the scanners' 64 KiB read buffers: a rewrite per request
// would otherwise allocate (and clear) one every time.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

func newScanner(r io.Reader, w io.Writer) *scanner {
	bp := bufPool.Get().(*[]byte)
	return &scanner{r: r, w: w, buf: *bp, pooled: bp, out: true, stopAt: -1}
}

// newBytesScanner scans body in place: one window, no reads, no copy.
func newBytesScanner(body []byte, w io.Writer) *scanner {
	return &scanner{w: w, buf: body, n: len(body), eof: true, out: true, stopAt: -1}
}

// release hands the read buffer back; the scanner is done. Nothing keeps
// a slice of it: hand gives w (which copies), and a capture is used
// before the scanner reads on.
func (s *scanner) release() {
	if s.pooled != nil {
		bufPool.Put(s.pooled)
		s.pooled, s.buf = nil, nil
	}
}

// hand passes the consumed bytes on.
func (s *scanner) hand() {
	if s.start >= s.pos {
		s.start = s.pos
		return
	}
	p := s.buf[s.start:s.pos]
	if s.out && s.err == nil {
		if _, err := s.w.Write(p); err != nil {
			s.err = err
		}
	}
	s.start = s.pos
}

// spill copies the capture's part of the window to cap: the window is
// about to be dropped.
func (s *scanner) spill() {
	if !s.capture {
		return
	}
	p := s.buf[s.capFrom:s.pos]
	if len(s.cap)+len(p) > maxCapture {
		if s.err == nil {
			s.err = bad("a value the gateway must read is over %d bytes", maxCapture)
		}
		return
	}
	s.cap = append(s.cap, p...)
}

// setOut turns copying to w on or off from here.
func (s *scanner) setOut(on bool) { s.hand(); s.out = on }

// startCapture starts a capture from here; endCapture returns it, valid
// until the scanner reads on (a slice of the window when it fits there).
func (s *scanner) startCapture() { s.capture, s.cap, s.capFrom = true, s.cap[:0], s.pos }
func (s *scanner) endCapture() []byte {
	s.capture = false
	if len(s.cap) == 0 {
		return s.buf[s.capFrom:s.pos]
	}
	s.cap = append(s.cap, s.buf[s.capFrom:s.pos]...)
	return s.cap
}

// write emits b to w, in order with the copied bytes.
func (s *scanner) write(b []byte) {
	s.hand()
	if s.err == nil {
		if _, err := s.w.Write(b); err != nil {
			s.err = err
		}
	}
}

// more makes sure a byte is there to read; false at the end or on error.
func (s *scanner) more() bool {
	if s.pos < s.n {
		return true
	}
	if s.err != nil || s.eof {
		return false
	}
	s.hand()
	s.spill()
	s.pos, s.n, s.start, s.capFrom = 0, 0, 0, 0
	s.stopAt = -1
	for s.n == 0 {
		n, err := s.r.Read(s.buf)
		s.n = n
		if err == io.EOF {
			s.eof = true
			return n > 0
		}
		if err != nil {
			s.err = err
			return n > 0
		}
	}
	return true
}

// fail is the error to return: a read error, else bad(what).
func (s *scanner) fail(what string) error {
	if s.err != nil {
		return s.err
	}
	return bad("%s", what)
}

// ws consumes white space and returns the next byte (not consumed).
func (s *scanner) ws() (byte, error) {
	for s.pos < s.n || s.more() {
		c := s.buf[s.pos]
		if c > ' ' || (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			return c, nil
		}
		s.pos++
	}
	return 0, s.fail("unexpected end of body")
}

// expect consumes byte c (after white space).
func (s *scanner) expect(c byte) error {
	got, err := s.ws()
	if err != nil {
		return err
	}
	if got != c {
		return bad("want %q, got %q", c, got)
	}
	s.pos++
	return nil
}

// value consumes one JSON value.
func (s *scanner) value() error {
	c, err := s.ws()
	if err != nil {
		return err
	}
	return s.valueAt(c)
}

// valueAt consumes one JSON value, c (the byte after white space) its
// first byte.
func (s *scanner) valueAt(c byte) error {
	switch {
	case c == '"':
		return s.str()
	case c == '{' || c == '[':
		return s.compound(c)
	case c == '-' || ('0' <= c && c <= '9') || c == 't' || c == 'f' || c == 'n':
		return s.scalar()
	}
	return bad("unexpected %q", c)
}

// compound consumes an object or an array, checking its structure.
func (s *scanner) compound(open byte) error {
	if s.depth++; s.depth > maxDepth {
		return bad("nested deeper than %d", maxDepth)
	}
	err := s.inside(open)
	s.depth-- // not deferred: a defer a value costs more than the value
	return err
}

// inside consumes the inside of an object or an array and its closer.
func (s *scanner) inside(open byte) error {
	s.pos++
	closer := byte(']')
	if open == '{' {
		closer = '}'
	}
	c, err := s.ws()
	if err != nil {
		return err
	}
	if c == closer {
		s.pos++
		return nil
	}
	for {
		if open == '[' && (c == '-' || ('0' <= c && c <= '9')) {
			// A run of numbers (an embedding): one tight loop over bytes
			// that cannot change the structure.
			last, err := s.numberRun()
			if err != nil {
				return err
			}
			if last == ']' {
				return nil // the rest was flat: consumed through ']'
			}
			if c, err = s.ws(); err != nil {
				return err
			}
			switch {
			case c == ']' && last != ',':
				s.pos++
				return nil
			case last == ',':
				continue
			}
			return bad("want ',' or ']', got %q", c)
		}
		if open == '{' { // c is the byte after white space
			if c != '"' {
				return bad("object keys must be strings")
			}
			if err := s.str(); err != nil {
				return err
			}
			if err := s.expect(':'); err != nil {
				return err
			}
			if c, err = s.ws(); err != nil {
				return err
			}
		}
		if err := s.valueAt(c); err != nil {
			return err
		}
		if c, err = s.ws(); err != nil {
			return err
		}
		s.pos++
		switch c {
		case ',':
		case closer:
			return nil
		default:
			return bad("want ',' or %q, got %q", closer, c)
		}
		if c, err = s.ws(); err != nil {
			return err
		}
	}
}

// str consumes a string (the opening quote is next).
func (s *scanner) str() error {
	s.pos++
	s.plain = true
outer:
	for s.more() {
		b := s.buf[s.pos:s.n]
		for i, c := range b {
			if !strStop[c] {
				continue
			}
			switch {
			case c == '"':
				s.pos += i + 1
				return nil
			case c == '\\':
				s.plain = false
				s.pos += i + 1
				if !s.more() {
					return s.fail("unterminated string")
				}
				s.pos++ // the escaped byte; \uXXXX's digits are plain bytes
				continue outer
			case c < ' ':
				return bad("control character in a string")
			}
			s.plain = false // over 0x7e
		}
		s.pos = s.n
	}
	return s.fail("unterminated string")
}

// scalar consumes a number, true, false or null: its bytes are copied as
// they are (no float conversion); Chroma checks them.
func (s *scanner) scalar() error {
	for s.more() {
		b := s.buf[s.pos:s.n]
		for i, c := range b {
			if !scalarByte[c] {
				s.pos += i
				return nil
			}
		}
		s.pos = s.n
	}
	if s.err != nil {
		return s.err
	}
	return nil // a scalar ending the body: the caller finds the end
}

// strStop: the bytes a string's scan stops at (its end, an escape, a
// control character, a byte that makes it not plain ASCII).
var strStop = func() (t [256]bool) {
	for c := 0; c < ' '; c++ {
		t[c] = true
	}
	for c := 0x7f; c < 256; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

var scalarByte = func() (t [256]bool) {
	for _, c := range []byte("0123456789+-.eEtruefalsn") {
		t[c] = true
	}
	return t
}()

// end checks nothing but white space follows the top-level value.
func (s *scanner) end() error {
	for s.more() {
		c := s.buf[s.pos]
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return bad("data after the JSON object")
		}
		s.pos++
	}
	if s.err != nil {
		return s.err
	}
	s.hand()
	return s.err
}
