package authz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxBodyBytes bounds the request body the gateway reads, on the few
// routes whose scope or action is in the body. Other bodies are never read.
const MaxBodyBytes = 1 << 20

// ErrBodyTooLarge is returned (wrapped) when the members of a body the
// decision needs are larger than MaxBodyBytes.
var ErrBodyTooLarge = errors.New("request body too large to authorize")

// restoredBody gives back the bytes ReadBody read, then the rest of the
// original body, and closes the original.
type restoredBody struct {
	io.Reader
	orig io.ReadCloser
}

func (b *restoredBody) Close() error { return b.orig.Close() }

// object reads the top-level members of a JSON object, keeping the last of
// repeated keys (as the Python server does; the Rust one refuses them). ok
// is false when body is not one JSON object.
func object(body []byte) (map[string]json.RawMessage, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	out := make(map[string]json.RawMessage)
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, false
		}
		k, ok := t.(string)
		if !ok {
			return nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		out[k] = v
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false // trailing data
	}
	return out, true
}

// str reads a member that must be a non-empty string when present. ok is
// false when the member is present but is something else.
func str(m map[string]json.RawMessage, key string) (s string, ok bool) {
	raw, present := m[key]
	if !present || string(raw) == "null" {
		return "", true
	}
	if err := json.Unmarshal(raw, &s); err != nil || s == "" {
		return "", false
	}
	return s, true
}

// truthy reports whether a JSON value means true to Chroma: JSON true for
// the Rust server, and what pydantic's lax bool accepts for the Python one
// (1, "true", "yes", "on", "1", "t", "y", any case).
func truthy(raw json.RawMessage) bool {
	if raw == nil {
		return false
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return false
	}
	switch x := v.(type) {
	case bool:
		return x
	case float64:
		return x == 1
	case string:
		switch strings.ToLower(x) {
		case "1", "true", "yes", "on", "t", "y":
			return true
		}
	}
	return false
}

func badBody(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadBody, fmt.Sprintf(format, args...))
}
