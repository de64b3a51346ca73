package authz

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
)

// keptKeys are the only object members the body appliers (bodies.go)
// read: a skeleton keeps them, wherever they are, and drops every other
// member. An applier that reads another member must add it here
// (FuzzSkeleton would find it).
var keptKeys = map[string]bool{
	"name": true, "get_or_create": true, "new_name": true, "output_collection": true,
	"input_collection_id": true, "operations": true, "operation": true,
}

// maxKeyRaw bounds the raw length of a key worth decoding: no kept key
// is longer than 19 characters, 6 bytes each at most when escaped.
const maxKeyRaw = 6*19 + 2

// maxDepth bounds nesting, as encoding/json does.
const maxDepth = 10000

var errNotJSON = errors.New("not JSON")

// skeleton reads one JSON text from in, strictly (RFC 8259, as
// encoding/json), and writes to out its skeleton: objects with only their
// kept members, arrays with all their elements, scalars of kept places
// verbatim, no whitespace. It stops at the first error: errNotJSON,
// ErrBodyTooLarge (out would pass max) or a read error.
type skeleton struct {
	in    *bufio.Reader
	out   []byte
	max   int
	err   error
	depth int
}

// document reads the whole input: one object, then only whitespace. A
// text that is not an object is not read further: no applier takes it.
func (s *skeleton) document() {
	if c := s.next(); s.err != nil || c != '{' {
		s.fail(errNotJSON)
		return
	}
	s.object(true)
	for s.err == nil {
		c, err := s.in.ReadByte()
		switch {
		case err == io.EOF:
			return
		case err != nil:
			s.fail(err)
		case c != ' ' && c != '\t' && c != '\n' && c != '\r':
			s.fail(errNotJSON) // trailing data
		}
	}
}

// next returns the next byte that is not whitespace.
func (s *skeleton) next() byte {
	for {
		c, err := s.in.ReadByte()
		if err != nil {
			s.fail(eofIsNotJSON(err))
			return 0
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c
	}
}

func (s *skeleton) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

func (s *skeleton) emit(keep bool, b ...byte) {
	if !keep || s.err != nil {
		return
	}
	if len(s.out)+len(b) > s.max {
		s.fail(ErrBodyTooLarge)
		return
	}
	s.out = append(s.out, b...)
}

// value reads one value whose first byte is c.
func (s *skeleton) value(c byte, keep bool) {
	switch {
	case c == '{':
		s.object(keep)
	case c == '[':
		s.array(keep)
	case c == '"':
		s.emit(keep, '"')
		s.str(keep, nil)
	case c == '-' || (c >= '0' && c <= '9'):
		s.number(c, keep)
	case c == 't':
		s.literal(keep, "true")
	case c == 'f':
		s.literal(keep, "false")
	case c == 'n':
		s.literal(keep, "null")
	default:
		s.fail(errNotJSON)
	}
}

// object reads an object after its '{'.
func (s *skeleton) object(keep bool) {
	if s.depth++; s.depth > maxDepth {
		s.fail(errNotJSON)
		return
	}
	defer func() { s.depth-- }()
	s.emit(keep, '{')
	c := s.next()
	if c == '}' {
		s.emit(keep, '}')
		return
	}
	first := true
	for s.err == nil {
		if c != '"' {
			s.fail(errNotJSON)
			return
		}
		var raw []byte
		s.str(false, &raw)
		if c = s.next(); c != ':' {
			s.fail(errNotJSON)
			return
		}
		kept := keep && keptKey(raw)
		if kept {
			if !first {
				s.emit(true, ',')
			}
			s.emit(true, raw...)
			s.emit(true, ':')
			first = false
		}
		s.value(s.next(), kept)
		switch c = s.next(); c {
		case ',':
			c = s.next()
		case '}':
			s.emit(keep, '}')
			return
		default:
			s.fail(errNotJSON)
		}
	}
}

// keptKey reports whether the raw key (quoted, as sent) decodes to a
// kept key.
func keptKey(raw []byte) bool {
	if raw == nil {
		return false
	}
	var k string
	return json.Unmarshal(raw, &k) == nil && keptKeys[k]
}

// array reads an array after its '['.
func (s *skeleton) array(keep bool) {
	if s.depth++; s.depth > maxDepth {
		s.fail(errNotJSON)
		return
	}
	defer func() { s.depth-- }()
	s.emit(keep, '[')
	c := s.next()
	if c == ']' {
		s.emit(keep, ']')
		return
	}
	for s.err == nil {
		s.value(c, keep)
		switch c = s.next(); c {
		case ',':
			s.emit(keep, ',')
			c = s.next()
		case ']':
			s.emit(keep, ']')
			return
		default:
			s.fail(errNotJSON)
		}
	}
}

// str reads a string after its opening quote, emitting it when keep,
// and collecting it (quotes included) into *raw while it is short enough
// to be a kept key (*raw is nil when it is not).
func (s *skeleton) str(keep bool, raw *[]byte) {
	if raw != nil {
		*raw = append((*raw)[:0], '"')
	}
	add := func(b ...byte) {
		s.emit(keep, b...)
		if raw != nil && *raw != nil {
			if len(*raw)+len(b) > maxKeyRaw {
				*raw = nil
			} else {
				*raw = append(*raw, b...)
			}
		}
	}
	for s.err == nil {
		s.plain(add)
		c, err := s.in.ReadByte()
		if err != nil {
			s.fail(eofIsNotJSON(err))
			return
		}
		switch {
		case c == '"':
			add(c)
			return
		case c < 0x20:
			s.fail(errNotJSON)
			return
		case c == '\\':
			s.escape(add)
		default:
			add(c)
		}
	}
}

// plain reads the run of a string's bytes that need no care (no quote,
// backslash or control byte) in the buffer, at once.
func (s *skeleton) plain(add func(...byte)) {
	if s.peek() == 0 {
		return
	}
	buf, _ := s.in.Peek(s.in.Buffered())
	i := 0
	for i < len(buf) && buf[i] != '"' && buf[i] != '\\' && buf[i] >= 0x20 {
		i++
	}
	if i > 0 {
		add(buf[:i]...)
		_, _ = s.in.Discard(i)
	}
}

// escape reads an escape after its backslash.
func (s *skeleton) escape(add func(...byte)) {
	c, err := s.in.ReadByte()
	if err != nil {
		s.fail(eofIsNotJSON(err))
		return
	}
	switch c {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		add('\\', c)
	case 'u':
		hex := []byte{'\\', 'u', 0, 0, 0, 0}
		for i := 2; i < 6; i++ {
			h, err := s.in.ReadByte()
			if err != nil {
				s.fail(eofIsNotJSON(err))
				return
			}
			if !isHex(h) {
				s.fail(errNotJSON)
				return
			}
			hex[i] = h
		}
		add(hex...)
	default:
		s.fail(errNotJSON)
	}
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// number reads a number whose first byte is c:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *skeleton) number(c byte, keep bool) {
	s.emit(keep, c)
	if c == '-' {
		c = s.digit(keep)
		if s.err != nil {
			return
		}
	}
	if c != '0' {
		s.digits(keep)
	}
	if s.peek() == '.' {
		s.take(keep)
		s.digit(keep)
		s.digits(keep)
	}
	if p := s.peek(); p == 'e' || p == 'E' {
		s.take(keep)
		if p := s.peek(); p == '+' || p == '-' {
			s.take(keep)
		}
		s.digit(keep)
		s.digits(keep)
	}
}

// digit reads one digit (required).
func (s *skeleton) digit(keep bool) byte {
	c, err := s.in.ReadByte()
	if err != nil {
		s.fail(eofIsNotJSON(err))
		return 0
	}
	if c < '0' || c > '9' {
		s.fail(errNotJSON)
		return 0
	}
	s.emit(keep, c)
	return c
}

// digits reads any digits, a buffer at a time.
func (s *skeleton) digits(keep bool) {
	for s.err == nil {
		if s.peek() == 0 {
			return
		}
		buf, _ := s.in.Peek(s.in.Buffered())
		i := 0
		for i < len(buf) && buf[i] >= '0' && buf[i] <= '9' {
			i++
		}
		s.emit(keep, buf[:i]...)
		_, _ = s.in.Discard(i)
		if i < len(buf) {
			return
		}
	}
}

// peek is the next byte, 0 at the end (or on an error, kept).
func (s *skeleton) peek() byte {
	b, err := s.in.Peek(1)
	if err != nil {
		if err != io.EOF {
			s.fail(err)
		}
		return 0
	}
	return b[0]
}

func (s *skeleton) take(keep bool) {
	c, err := s.in.ReadByte()
	if err != nil {
		s.fail(err)
		return
	}
	s.emit(keep, c)
}

// literal reads the rest of true, false or null.
func (s *skeleton) literal(keep bool, word string) {
	s.emit(keep, word[0])
	for i := 1; i < len(word); i++ {
		c, err := s.in.ReadByte()
		if err != nil {
			s.fail(eofIsNotJSON(err))
			return
		}
		if c != word[i] {
			s.fail(errNotJSON)
			return
		}
		s.emit(keep, c)
	}
}

func eofIsNotJSON(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errNotJSON
	}
	return err
}
