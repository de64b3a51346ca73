package authz

import (
	"bytes"
	"encoding/json"
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
// list of them. ok is false when it is neither.
func ParseCollections(body []byte) ([]Collection, bool) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, false
	}
	var raws []json.RawMessage
	if trimmed[0] == '[' {
		if json.Unmarshal(trimmed, &raws) != nil {
			return nil, false
		}
	} else {
		raws = []json.RawMessage{trimmed}
	}
	out := make([]Collection, 0, len(raws))
	for _, raw := range raws {
		var c Collection
		if json.Unmarshal(raw, &c) != nil {
			return nil, false
		}
		c.Raw = raw
		out = append(out, c)
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
