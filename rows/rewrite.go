package rows

import (
	"bytes"
	"encoding/json"
	"io"
)

// Op is the kind of body, and so how it is rewritten.
type Op int

const (
	// Where: get, query, delete, conditional get. The filter is ANDed into
	// `where` (added when absent).
	Where Op = iota
	// Delete: as Where, but a delete Chroma refuses (empty ids, no where)
	// stays as sent, so that it is still refused rather than turned into
	// "delete all my records".
	Delete
	// Search: Chroma 1.5's search. The filter is ANDed into each search's
	// `filter`.
	Search
	// Add: the row keys are stamped on every record.
	Add
	// Upsert: stamped as Add; the ids go to the check first.
	Upsert
	// Update: a record may not set a row key to another value; the ids go
	// to the check first.
	Update
	// Commit: a conditional commit; each operation rewritten as its own.
	Commit
)

// IDCheck is called with the ids of an update or upsert before the rest of
// the body goes on: an error (ErrForbidden when one belongs to another
// identity) ends the rewrite before the body is complete upstream.
type IDCheck func(ids []string) error

// Rewrite copies the JSON object body from src to dst, changed as op says
// for the identity of f and otherwise byte for byte as it came (white
// space, member order, numbers as written). It returns ErrBadBody or
// ErrForbidden (wrapped) or a read or write error; on any error, what was
// written is a prefix that is not a complete JSON document only if dst
// framing says so: the caller must abort, not end, the upstream body.
func Rewrite(dst io.Writer, src io.Reader, op Op, f *Filter, check IDCheck) error {
	s := newScanner(src, dst)
	defer s.release()
	if err := rewriteBody(s, op, f, check); err != nil {
		return err
	}
	return s.end()
}

// RewriteBytes is Rewrite of an in-memory body, scanned where it lies
// (no read buffer, no copy but the output). The answer is the same as
// Rewrite's of the same bytes, however they would have been read.
func RewriteBytes(body []byte, op Op, f *Filter, check IDCheck) ([]byte, error) {
	var out bytes.Buffer
	out.Grow(len(body) + 256)
	s := newBytesScanner(body, &out)
	err := rewriteBody(s, op, f, check)
	if err == nil {
		err = s.end()
	}
	return out.Bytes(), err
}

// RewriteSpans is RewriteBytes without the copy: it appends to parts the
// rewritten body in order, spans of body itself and the bytes the rewrite
// adds. The parts are valid while body is (and unchanged).
func RewriteSpans(parts [][]byte, body []byte, op Op, f *Filter, check IDCheck) ([][]byte, error) {
	w := &spans{parts: parts}
	s := newBytesScanner(body, w)
	err := rewriteBody(s, op, f, check)
	if err == nil {
		err = s.end()
	}
	return w.parts, err
}

// spans keeps what is written to it, not a copy: against io.Writer's
// rule, which is why it is only the writer of a scanner of an in-memory
// body, whose writes are spans of that body (hand) and slices built for
// the write and never changed after (write's callers).
type spans struct{ parts [][]byte }

func (w *spans) Write(p []byte) (int, error) {
	w.parts = append(w.parts, p)
	return len(p), nil
}

func rewriteBody(s *scanner, op Op, f *Filter, check IDCheck) error {
	switch op {
	case Where, Delete:
		return whereObject(s, f, "where", op == Delete)
	case Search:
		return members(s, func(k string) error {
			if k != "searches" {
				return s.value()
			}
			return elements(s, func() error { return whereObject(s, f, "filter", false) })
		}, nil)
	case Add, Upsert, Update:
		return recordsObject(s, op, f, check)
	case Commit:
		return members(s, func(k string) error {
			if k != "operations" {
				return s.value()
			}
			return elements(s, func() error { return operation(s, f, check) })
		}, nil)
	}
	return bad("unknown operation")
}

// members walks an object's members (its '{' next): fn gets each key,
// decoded, with the value next, and must consume it. atEnd, when set, is
// called before the closing brace, told whether the object had members.
func members(s *scanner, fn func(key string) error, atEnd func(empty bool) error) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	c, err := s.ws()
	if err != nil {
		return err
	}
	empty := true
	for c != '}' {
		k, err := s.key(c)
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := fn(k); err != nil {
			return err
		}
		empty = false
		if c, err = s.ws(); err != nil {
			return err
		}
		switch c {
		case ',':
			s.pos++
			if c, err = s.ws(); err != nil {
				return err
			}
			if c == '}' {
				return bad("trailing comma")
			}
		case '}':
		default:
			return bad("want ',' or '}', got %q", c)
		}
	}
	if atEnd != nil {
		if err := atEnd(empty); err != nil {
			return err
		}
	}
	s.pos++
	return nil
}

// key consumes an object key, c (the byte after white space) its first
// byte, and returns it decoded.
func (s *scanner) key(c byte) (string, error) {
	if c != '"' {
		return "", bad("object keys must be strings")
	}
	s.startCapture()
	if err := s.str(); err != nil {
		return "", err
	}
	raw := s.endCapture()
	if s.plain {
		return known(raw[1 : len(raw)-1]), nil
	}
	return decodeString(raw)
}

// elements walks an array (its '[' next), fn consuming each element.
func elements(s *scanner, fn func() error) error {
	if err := s.expect('['); err != nil {
		return err
	}
	c, err := s.ws()
	if err != nil {
		return err
	}
	if c == ']' {
		s.pos++
		return nil
	}
	for {
		if err := fn(); err != nil {
			return err
		}
		if c, err = s.ws(); err != nil {
			return err
		}
		s.pos++
		switch c {
		case ',':
		case ']':
			return nil
		default:
			return bad("want ',' or ']', got %q", c)
		}
	}
}

// raw consumes a value without copying it out and returns its bytes.
func (s *scanner) raw() ([]byte, error) {
	if _, err := s.ws(); err != nil {
		return nil, err
	}
	s.setOut(false)
	s.startCapture()
	err := s.value()
	v := s.endCapture()
	s.setOut(true)
	return v, err
}

// copied consumes a value, copying it out, and returns its bytes too.
func (s *scanner) copied() ([]byte, error) {
	if _, err := s.ws(); err != nil {
		return nil, err
	}
	s.startCapture()
	err := s.value()
	return s.endCapture(), err
}

// whereObject ANDs the filter into the member name of an object (its '{'
// next), adding the member when absent.
func whereObject(s *scanner, f *Filter, name string, isDelete bool) error {
	seen, whereDoc, emptyIDs := false, false, false
	return members(s, func(k string) error {
		switch {
		case k == name:
			seen = true
			v, err := s.raw()
			if err != nil {
				return err
			}
			f.andTo(s, v)
			return nil
		case isDelete && k == "where_document":
			whereDoc = true
		case isDelete && k == "ids":
			v, err := s.copied()
			emptyIDs = err == nil && isEmptyArray(v)
			return err
		}
		return s.value()
	}, func(empty bool) error {
		if seen || (isDelete && emptyIDs && !whereDoc) {
			return nil
		}
		ins := make([]byte, 0, len(name)+len(f.clause)+4)
		if !empty {
			ins = append(ins, ',')
		}
		ins = append(append(append(ins, '"'), name...), `":`...)
		s.write(append(ins, f.clause...))
		return nil
	})
}

// andTo writes the where clause v ANDed with the filter: the filter alone
// when v is null or {} (no filter), else {"$and":[v, <filter's
// conditions>]}, in pieces (no copy of v).
func (f *Filter) andTo(s *scanner, v []byte) {
	t := bytes.TrimSpace(v)
	if string(t) == "null" || isEmptyObject(t) {
		s.write(f.clause)
		return
	}
	s.write(andOpen)
	s.write(v)
	s.write(f.andTail)
}

// andOpen opens the ANDed clause andTo writes (never written to).
var andOpen = []byte(`{"$and":[`)

func isEmptyObject(t []byte) bool {
	return len(t) >= 2 && t[0] == '{' && t[len(t)-1] == '}' && len(bytes.TrimSpace(t[1:len(t)-1])) == 0
}

func isEmptyArray(v []byte) bool {
	t := bytes.TrimSpace(v)
	return len(t) >= 2 && t[0] == '[' && t[len(t)-1] == ']' && len(bytes.TrimSpace(t[1:len(t)-1])) == 0
}

// decodeString decodes a JSON string as str consumed it (quotes
// included). A string of printable ASCII without escapes is its own
// bytes; any other goes through encoding/json.
func decodeString(raw []byte) (string, error) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' && plainASCII(raw[1:len(raw)-1]) {
		return known(raw[1 : len(raw)-1]), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", bad("a key or value is not a valid JSON string")
	}
	return s, nil
}

// plainASCII: no escape, no quote, no control byte, nothing over 0x7e.
func plainASCII(b []byte) bool {
	for _, c := range b {
		if c < ' ' || c > '~' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// known is string(b), without an allocation for the keys the rewrite
// looks for (the switch on string(b) does not copy).
func known(b []byte) string {
	switch string(b) {
	case "where":
		return "where"
	case "ids":
		return "ids"
	case "metadatas":
		return "metadatas"
	case "embeddings":
		return "embeddings"
	case "documents":
		return "documents"
	case "uris":
		return "uris"
	case "include":
		return "include"
	case "query_embeddings":
		return "query_embeddings"
	case "n_results":
		return "n_results"
	case "limit":
		return "limit"
	case "offset":
		return "offset"
	case "where_document":
		return "where_document"
	case "searches":
		return "searches"
	case "filter":
		return "filter"
	case "operations":
		return "operations"
	case "operation":
		return "operation"
	case "payload":
		return "payload"
	}
	return string(b)
}
