package authz

import (
	"bytes"
	"encoding/json"
	"io"
)

// Collection is one collection of an upstream answer: what the gateway
// reads of it, and its JSON exactly as the upstream sent it.
type Collection struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Tenant   string          `json:"tenant"`
	Database string          `json:"database"`
	Raw      json.RawMessage `json:"-"`
}

// ParseCollections reads an upstream answer holding a collection or a
// list of them. ok is false when it is neither. Each collection's Raw is
// a slice of body (which must not change afterwards): one pass of the
// decoder per collection, no copy.
func ParseCollections(body []byte) ([]Collection, bool) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, false
	}
	if trimmed[0] != '[' {
		var c Collection
		if json.Unmarshal(trimmed, &c) != nil {
			return nil, false
		}
		c.Raw = trimmed
		return []Collection{c}, true
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return nil, false
	}
	var out []Collection
	for dec.More() {
		start := dec.InputOffset()
		var c Collection
		if dec.Decode(&c) != nil {
			return nil, false
		}
		c.Raw = bytes.TrimLeft(trimmed[start:dec.InputOffset()], " \t\r\n,")
		out = append(out, c)
	}
	if t, err := dec.Token(); err != nil || t != json.Delim(']') {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	if out == nil {
		out = []Collection{}
	}
	return out, true
}

// Page applies a listing's limit and offset (limit < 0: no limit) to
// list.
func Page(list []Collection, limit, offset int) []Collection {
	if offset >= len(list) {
		return nil
	}
	list = list[offset:]
	if limit >= 0 && limit < len(list) {
		list = list[:limit]
	}
	return list
}

// ListJSON writes list as the JSON array Chroma answers a listing with,
// each collection exactly as the upstream sent it.
func ListJSON(list []Collection) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, c := range list {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(c.Raw)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// AppendIndexed appends to dst the JSON array ListJSON makes of the page
// [offset, offset+limit) (limit < 0: no limit) of the collections of all
// at idx (in order; see Listing.Visible), in one allocation, and returns
// their count.
func AppendIndexed(dst []byte, all []Collection, idx []int32, limit, offset int) ([]byte, int) {
	lo, hi := min(offset, len(idx)), len(idx)
	if limit >= 0 && hi-lo > limit {
		hi = lo + limit
	}
	page := idx[lo:hi]
	if dst == nil {
		size := 2
		for _, i := range page {
			size += len(all[i].Raw) + 1
		}
		dst = make([]byte, 0, size)
	}
	dst = append(dst, '[')
	for k, i := range page {
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, all[i].Raw...)
	}
	return append(dst, ']'), len(idx)
}
