package rows

import (
	"encoding/binary"
	"io"
)

// flatLook is how far past the start of a run of numbers the fast skip
// (flatEnd) looks for the array's end. When a run starts, the streaming
// scanner has that much of the body buffered (or all the rest of it), so
// whether the skip applies depends on the body's bytes alone, never on
// how its reads fell: a body gets the same answer read whole or in pieces.
const flatLook = 48 << 10

// numberRun consumes numbers, commas and white space, and returns the
// last byte of it that is not white space; or, when the rest of the array
// is flat (flatEnd), consumes it through its ']' and returns ']'.
func (s *scanner) numberRun() (byte, error) {
	s.look(flatLook)
	if e := s.flatEnd(); e >= 0 {
		s.pos = e + 1
		return ']', nil
	}
	var last byte
	for s.more() {
		b := s.buf[s.pos:s.n]
		i := 0
		// eight bytes a step while all eight are in the run (an
		// embedding is thousands of them), then byte by byte
		for ; i+8 <= len(b); i += 8 {
			w := binary.LittleEndian.Uint64(b[i : i+8 : i+8])
			if runPair[w&0xffff]&runPair[w>>16&0xffff]&runPair[w>>32&0xffff]&runPair[w>>48] == 0 {
				break
			}
		}
		for i < len(b) && runByte[b[i]] != 0 {
			i++
		}
		// the last byte of the run that is not white space, looked for
		// once per buffer rather than at every byte
		for j := i - 1; j >= 0; j-- {
			if c := b[j]; c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				last = c
				break
			}
		}
		s.pos += i
		if i < len(b) {
			return last, nil
		}
	}
	return last, s.fail("unexpected end of body")
}

// flatEnd is where the array ends when the rest of it, from pos, can be
// skipped unread: its first ']' is within flatLook bytes, with no '"'
// before it and no comma just before it; -1 when not (the byte loop then
// reads it). One scan for both bytes (indexStop: assembly, 64 bytes a
// step) instead of a table lookup a byte.
//
// Why skipping is safe: the rewrite must find exactly the members Chroma's
// parser (serde_json, strict) reads, in every body Chroma accepts. With no
// '"' among the skipped bytes no string starts there, so none of them is a
// key, and the scanner and Chroma agree from here on where every string
// starts and ends. In valid JSON that ']' then closes this array, unless a
// '[' opened among the skipped bytes (an object there can have no member:
// a member needs a key). If one did, the scanner is from here on as many
// levels shallower than the body as '['s were skipped, reading the same
// tokens: it ends the top-level object while the body still has closers,
// and end refuses them (ErrBadBody). So a body that nests an array after a
// number in one array (a shape no field of Chroma's takes) is refused,
// never rewritten wrong. A body that is not valid JSON may pass here
// unrefused ([1,,2], [1,x], [1,}]), but Chroma refuses it whole, so nothing
// in it is read at all; the gateway keeps only the check that costs
// nothing (a trailing comma). Whether a run is skipped depends on the
// body's bytes alone (flatLook), so every way of reading a body gives it
// the same answer.
func (s *scanner) flatEnd() int {
	if s.noSkip {
		return -1
	}
	e := s.nextStop()
	if e >= s.n || s.buf[e] != ']' || e-s.pos >= flatLook {
		return -1
	}
	for j := e - 1; j >= s.pos; j-- {
		switch s.buf[j] {
		case ' ', '\t', '\n', '\r':
			continue
		case ',':
			return -1
		}
		return e
	}
	return -1 // white space alone: no run starts here
}

// nextStop is the index of the next '"' or ']' at or after pos in the
// window (n when there is neither), kept until pos passes it: each byte of
// a window is searched once, however many runs ask.
func (s *scanner) nextStop() int {
	if s.stopAt < s.pos {
		s.stopAt = s.n
		if i := indexStop(s.buf[s.pos:s.n]); i >= 0 {
			s.stopAt = s.pos + i
		}
	}
	return s.stopAt
}

// look makes sure k bytes past pos are buffered, or all the rest of the
// body: the unconsumed bytes move to the front and reads fill the buffer.
// A read error is kept for more to report.
func (s *scanner) look(k int) {
	if s.n-s.pos >= k || s.eof || s.err != nil || s.r == nil {
		return
	}
	s.hand()
	s.spill()
	s.n = copy(s.buf, s.buf[s.pos:s.n])
	s.pos, s.start, s.capFrom = 0, 0, 0
	s.stopAt = -1
	for s.n < len(s.buf) {
		n, err := s.r.Read(s.buf[s.n:])
		s.n += n
		if err == io.EOF {
			s.eof = true
			return
		}
		if err != nil {
			s.err = err
			return
		}
	}
}

var runByte = func() (t [256]uint8) {
	for _, c := range []byte("0123456789+-.eE, \t\n\r") {
		t[c] = 1
	}
	return t
}()

// runPair is runByte of two bytes at once (the first in the low byte):
// 1 when both are in a run. Four lookups judge eight bytes.
var runPair = func() *[1 << 16]uint8 {
	var t [1 << 16]uint8
	for i := range t {
		t[i] = runByte[i&0xff] & runByte[i>>8]
	}
	return &t
}()
