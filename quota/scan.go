package quota

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strconv"
)

// MaxScanBytes bounds how much of a body is read before its size limits
// are decided: Chroma 1.x's own largest payload (40 MiB). A body whose
// bounded members come later is refused as too large to check.
const MaxScanBytes = 40 << 20

// Check reads as much of r's body as it takes to judge it against the
// size limits of l for op, and no more: it stops as soon as each bounded
// member (ids, n_results or limit, where, where_document) has been seen,
// or one is over its limit. What it read goes back in front of the rest
// of the body, so the upstream receives the request unchanged and the
// rest streams. A body that is not a JSON object is left to Chroma to
// refuse. It returns the limit the body is over, or nil.
func Check(r *http.Request, op Op, l Limits) *Violation {
	w := wantsOf(op, l)
	if w.none() || r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	orig := r.Body
	s := &scanner{src: orig, max: MaxScanBytes}
	v := s.object(op, l, w)
	if s.eof {
		buf := s.buf
		r.Body = &restored{Reader: bytes.NewReader(buf), orig: orig}
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	} else {
		r.Body = &restored{Reader: io.MultiReader(bytes.NewReader(s.buf), orig), orig: orig}
	}
	if v == nil && s.over {
		return &Violation{Op: op, Max: MaxScanBytes}
	}
	return v
}

// restored reads what Check read, then the rest of the original body.
type restored struct {
	io.Reader
	orig io.ReadCloser
}

func (b *restored) Close() error { return b.orig.Close() }

// scanner reads a JSON body byte by byte, keeping every byte it read.
type scanner struct {
	src  io.Reader
	buf  []byte
	pos  int
	max  int
	eof  bool // src is exhausted
	over bool // max bytes read, undecided
	bad  bool // a read error or malformed JSON: stop
}

// fill reads more of the body; false when there is no more.
func (s *scanner) fill() bool {
	for !s.eof && !s.bad {
		if len(s.buf) >= s.max {
			s.over = true
			return false
		}
		if cap(s.buf)-len(s.buf) < 512 {
			nb := make([]byte, len(s.buf), min(max(2*cap(s.buf), 4<<10), s.max))
			copy(nb, s.buf)
			s.buf = nb
		}
		n, err := s.src.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+n]
		if err == io.EOF {
			s.eof = true
		} else if err != nil {
			s.bad = true
		}
		if n > 0 {
			return true
		}
	}
	return false
}

func (s *scanner) peek() (byte, bool) {
	for s.pos >= len(s.buf) {
		if !s.fill() {
			return 0, false
		}
	}
	return s.buf[s.pos], true
}

func (s *scanner) ws() {
	for {
		c, ok := s.peek()
		if !ok || (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			return
		}
		s.pos++
	}
}

// expect consumes c after white space.
func (s *scanner) expect(c byte) bool {
	s.ws()
	if got, ok := s.peek(); ok && got == c {
		s.pos++
		return true
	}
	s.bad = true
	return false
}

// object walks the top-level members, checking the bounded ones, until
// each of them is seen or one is over.
func (s *scanner) object(op Op, l Limits, w wants) *Violation {
	if !s.expect('{') {
		return nil
	}
	s.ws()
	if c, ok := s.peek(); ok && c == '}' {
		return nil
	}
	seenWhere := 0 // where and where_document: both are read
	for {
		key, ok := s.key()
		if !ok || !s.expect(':') {
			return nil
		}
		s.ws()
		switch {
		case w.ids && key == "ids":
			n, ok := s.countArray(l.MaxBatch)
			if !ok {
				return nil
			}
			if n > l.MaxBatch {
				return &Violation{Limit: "max_batch", Op: op, Got: n, Max: l.MaxBatch}
			}
			w.ids = false
		case w.results && key == w.resultsKey:
			n, ok := s.number()
			if !ok {
				return nil
			}
			if n > l.MaxResults {
				return &Violation{Limit: "max_results", Op: op, Got: n, Max: l.MaxResults}
			}
			w.results = false
		case w.where && (key == "where" || key == "where_document"):
			n, ok := s.predicates()
			if !ok {
				return nil
			}
			if seenWhere += n; seenWhere > l.MaxWhere {
				return &Violation{Limit: "max_where", Op: op, Got: seenWhere, Max: l.MaxWhere}
			}
		default:
			if !s.skipValue() {
				return nil
			}
		}
		if w.none() {
			return nil // decided: the rest streams unread
		}
		s.ws()
		c, ok := s.peek()
		if !ok || (c != ',' && c != '}') {
			s.bad = true
			return nil
		}
		s.pos++
		if c == '}' {
			return nil
		}
	}
}

// key reads a member name; one with escapes is decoded.
func (s *scanner) key() (string, bool) {
	s.ws()
	start := s.pos
	esc, ok := s.str()
	if !ok {
		return "", false
	}
	raw := s.buf[start:s.pos]
	if !esc {
		return string(raw[1 : len(raw)-1]), true
	}
	var k string
	if json.Unmarshal(raw, &k) != nil {
		s.bad = true
		return "", false
	}
	return k, true
}

// str consumes a string; esc reports a backslash in it.
func (s *scanner) str() (esc, ok bool) {
	if c, ok := s.peek(); !ok || c != '"' {
		s.bad = true
		return false, false
	}
	s.pos++
	for {
		c, ok := s.peek()
		if !ok {
			return false, false
		}
		s.pos++
		switch c {
		case '\\':
			esc = true
			if _, ok := s.peek(); !ok {
				return false, false
			}
			s.pos++
		case '"':
			return esc, true
		}
	}
}

// skipValue consumes one value. Arrays and objects are skipped by one
// tight loop over the bytes, whatever their size.
func (s *scanner) skipValue() bool {
	c, ok := s.peek()
	if !ok {
		return false
	}
	switch c {
	case '"':
		_, ok := s.str()
		return ok
	case '{', '[':
		return s.skipNested()
	}
	for {
		c, ok := s.peek()
		if !ok {
			return s.eof && !s.bad
		}
		switch c {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return true
		}
		s.pos++
	}
}

func (s *scanner) skipNested() bool {
	depth, inStr, esc := 0, false, false
	for {
		if s.pos >= len(s.buf) && !s.fill() {
			return false
		}
		b := s.buf[s.pos:]
		for i, c := range b {
			if inStr {
				switch {
				case esc:
					esc = false
				case c == '\\':
					esc = true
				case c == '"':
					inStr = false
				}
				continue
			}
			switch c {
			case '"':
				inStr = true
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					s.pos += i + 1
					return true
				}
			}
		}
		s.pos += len(b)
	}
}

// countArray counts an array's elements, stopping once over limit; null
// is none.
func (s *scanner) countArray(limit int) (int, bool) {
	c, ok := s.peek()
	if !ok {
		return 0, false
	}
	if c == 'n' {
		return 0, s.skipValue()
	}
	if c != '[' {
		s.bad = true
		return 0, false
	}
	s.pos++
	s.ws()
	if c, ok := s.peek(); ok && c == ']' {
		s.pos++
		return 0, true
	}
	n := 0
	for {
		s.ws()
		if !s.skipValue() {
			return 0, false
		}
		if n++; n > limit {
			return n, true
		}
		s.ws()
		c, ok := s.peek()
		if !ok {
			return 0, false
		}
		s.pos++
		switch c {
		case ']':
			return n, true
		case ',':
		default:
			s.bad = true
			return 0, false
		}
	}
}

// number reads a number (null is 0), capped to fit an int.
func (s *scanner) number() (int, bool) {
	start := s.pos
	if !s.skipValue() {
		return 0, false
	}
	raw := string(s.buf[start:s.pos])
	if raw == "null" {
		return 0, true
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		s.bad = true
		return 0, false
	}
	return int(math.Min(math.Max(math.Ceil(f), 0), math.MaxInt32)), true
}

// predicates counts the conditions of a where or where_document filter.
func (s *scanner) predicates() (int, bool) {
	start := s.pos
	if !s.skipValue() {
		return 0, false
	}
	var v any
	if json.Unmarshal(s.buf[start:s.pos], &v) != nil {
		s.bad = true
		return 0, false
	}
	return countPredicates(v), true
}

// countPredicates counts the conditions of a filter: each field (or
// document operator) is one, and $and and $or add up their members.
func countPredicates(v any) int {
	m, ok := v.(map[string]any)
	if !ok {
		return 0
	}
	n := 0
	for k, sub := range m {
		if k == "$and" || k == "$or" {
			if list, ok := sub.([]any); ok {
				for _, e := range list {
					n += countPredicates(e)
				}
			}
			continue
		}
		n++
	}
	return n
}
