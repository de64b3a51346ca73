package rows

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// recordsObject rewrites an add, upsert or update body (its '{' next):
// the ids go to check (upsert, update) as soon as they are read; every
// record's metadata is checked (a row key set to another value is
// ErrForbidden) and, for add and upsert, stamped with the row keys it
// lacks; a body without metadatas gets one stamped metadata per id.
func recordsObject(s *scanner, op Op, f *Filter, check IDCheck) error {
	stamp := op != Update
	n, sawIDs, sawMeta := 0, false, false
	return members(s, func(k string) error {
		switch k {
		case "ids":
			v, err := s.copied()
			if err != nil {
				return err
			}
			var ids []string
			if err := json.Unmarshal(v, &ids); err != nil {
				return bad("ids must be a list of strings")
			}
			n, sawIDs = len(ids), true
			if check != nil && op != Add {
				return check(ids)
			}
			return nil
		case "metadatas":
			sawMeta = true
			c, err := s.ws()
			if err != nil {
				return err
			}
			if c == 'n' {
				if !stamp {
					return s.value()
				}
				v, err := s.raw()
				if err != nil || string(v) != "null" {
					return bad("metadatas must be a list or null")
				}
				if !sawIDs {
					return bad("metadatas null before ids: send ids first or leave metadatas out")
				}
				s.write(f.stamps(n))
				return nil
			}
			return elements(s, func() error { return record(s, f, stamp) })
		}
		return s.value()
	}, func(empty bool) error {
		if !stamp || sawMeta {
			return nil
		}
		if !sawIDs {
			return bad("no ids")
		}
		ins := []byte(`"metadatas":`)
		if !empty {
			ins = append([]byte{','}, ins...)
		}
		s.write(append(ins, f.stamps(n)...))
		return nil
	})
}

// stamps is a list of n stamp objects.
func (f *Filter) stamps(n int) []byte {
	one := f.stampObject()
	out := make([]byte, 0, n*(len(one)+1)+2)
	out = append(out, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, one...)
	}
	return append(out, ']')
}

// record checks (and stamps) one record's metadata: an object, or null.
func record(s *scanner, f *Filter, stamp bool) error {
	c, err := s.ws()
	if err != nil {
		return err
	}
	switch c {
	case 'n':
		if !stamp {
			return s.value()
		}
		v, err := s.raw()
		if err != nil || string(v) != "null" {
			return bad("a metadata must be an object or null")
		}
		s.write(f.stampObject())
		return nil
	case '{':
	default:
		return bad("a metadata must be an object or null")
	}
	var present uint32 // bit i: f.keys[i] seen
	return members(s, func(k string) error {
		i := f.index(k)
		if i < 0 {
			return s.value()
		}
		v, err := s.copied()
		if err != nil {
			return err
		}
		if got, err := decodeString(v); err != nil || got != f.vals[i] {
			return fmt.Errorf("%w: a record sets %q to another value", ErrForbidden, k)
		}
		present |= 1 << i
		return nil
	}, func(empty bool) error {
		if !stamp {
			return nil
		}
		var ins []byte
		for i, k := range f.keys {
			if present&(1<<i) != 0 {
				continue
			}
			if !empty || len(ins) > 0 {
				ins = append(ins, ',')
			}
			ins = append(append(append(ins, jsonString(k)...), ':'), jsonString(f.vals[i])...)
		}
		if len(ins) > 0 {
			s.write(ins)
		}
		return nil
	})
}

func (f *Filter) index(k string) int {
	for i, key := range f.keys {
		if key == k {
			return i
		}
	}
	return -1
}

// operation rewrites one operation of a conditional commit,
// {"operation": "add"|"update"|"upsert"|"delete", "payload": {…}}, as the
// route of its name would be rewritten. It is held whole (the operation
// may follow its payload).
func operation(s *scanner, f *Filter, check IDCheck) error {
	v, err := s.raw()
	if err != nil {
		return err
	}
	var head struct {
		Operation string `json:"operation"`
	}
	if err := json.Unmarshal(v, &head); err != nil {
		return bad("an operation must be an object naming its operation")
	}
	var op Op
	switch head.Operation {
	case "add":
		op = Add
	case "upsert":
		op = Upsert
	case "update":
		op = Update
	case "delete":
		op = Delete
	default:
		return bad("unknown operation %q", head.Operation)
	}
	var out bytes.Buffer
	sub := newBytesScanner(v, &out)
	sub.noSkip = s.noSkip
	sawOp := 0
	err = members(sub, func(k string) error {
		switch k {
		case "payload":
			return rewriteBody(sub, op, f, check)
		case "operation":
			sawOp++ // a repeated tag could name another operation
			if sawOp > 1 {
				return bad("operation given twice")
			}
		}
		return sub.value()
	}, nil)
	if err == nil {
		err = sub.end()
	}
	if err != nil {
		return err
	}
	s.write(out.Bytes())
	return nil
}
