package audit

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
)

// lineHead is what every line written to the audit's own output starts
// with, as Caddy's `format json` (zap's production JSON encoder) writes a
// line of the audit's logger at INFO.
const lineHead = `{"level":"info","ts":`

// lineName follows the time: the logger's name and the message.
const lineName = `,"logger":"http.handlers.chroma_auth.` + Logger + `","msg":"decision"`

// appendLine appends o's line, stamped ts, as Caddy's `format json` writes
// it byte for byte (TestAppendLineAsZap holds the two to each other): the
// same keys in the same order, the same escapes, the same time. It is
// written by hand because zap's encoder, its entry and Caddy's log core
// cost most of the line (issue 26); what it writes does not change.
func appendLine(b []byte, ts time.Time, o *lineObject) []byte {
	b = append(b, lineHead...)
	b = appendEpoch(b, ts)
	b = append(b, lineName...)
	b = appendField(b, "decision", o.decision)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(o.status), 10)
	b = appendNonEmpty(b, "user", o.user)
	b = appendNonEmpty(b, "provider", o.provider)
	b = appendNonEmpty(b, "key_id", o.keyID)
	b = appendNonEmpty(b, "role", o.role)
	b = appendField(b, "method", o.method)
	b = appendNonEmpty(b, "action", o.action)
	b = appendNonEmpty(b, "route", o.route)
	b = appendNonEmpty(b, "tenant", o.tenant)
	b = appendNonEmpty(b, "database", o.database)
	b = appendCollections(b, o.touched)
	b = appendNonEmpty(b, "reason", o.reason)
	b = appendField(b, "client_ip", o.clientIP)
	b = appendNonEmpty(b, "request_id", o.requestID)
	return append(b, "}\n"...)
}

// appendCollections is addCollections for the hand-written line.
func appendCollections(b []byte, touched []authz.Touched) []byte {
	others := touched
	if len(touched) > 0 && !touched[0].New && !touched[0].InBody {
		b = appendNonEmpty(b, "collection", touched[0].Name)
		b = appendNonEmpty(b, "collection_id", touched[0].ID)
		others = touched[1:]
	}
	if len(others) == 0 {
		return b
	}
	b = append(b, `,"collections":[`...)
	for i, t := range others {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTouched(b, t)
	}
	return append(b, ']')
}

// appendTouched is touchedEntry's object: one collection's members.
func appendTouched(b []byte, t authz.Touched) []byte {
	b = append(b, '{')
	first := len(b)
	if t.Name != "" {
		b = appendField(b, "name", t.Name)
	}
	if t.ID != "" {
		b = appendField(b, "id", t.ID)
	}
	if t.New {
		b = append(b, `,"new":true`...)
	}
	if t.InBody {
		b = append(b, `,"in_body":true`...)
	}
	if len(b) > first {
		b = append(b[:first], b[first+1:]...) // the first member has no comma
	}
	return append(b, '}')
}

// appendEpoch is zapcore.EpochTimeEncoder: seconds as a float64, in the
// shortest form that reads back the same.
func appendEpoch(b []byte, ts time.Time) []byte {
	// (A time's nanoseconds as a float64 are never NaN or infinite,
	// which zap would quote.)
	return strconv.AppendFloat(b, float64(ts.UnixNano())/float64(time.Second), 'f', -1, 64)
}

func appendNonEmpty(b []byte, key, val string) []byte {
	if val == "" {
		return b
	}
	return appendField(b, key, val)
}

// appendField appends `,"key":"val"`; every key is a constant that needs
// no escape.
func appendField(b []byte, key, val string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return appendString(b, val)
}

// appendString appends s quoted as zap's JSON encoder does: `\` and `"`
// escaped, \n \r \t by name and other control bytes as \u00XX, invalid
// UTF-8 as \ufffd, everything else (HTML's <, >, & included) as it is.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	if !needsEscape(s) { // most strings: copied whole
		b = append(b, s...)
		return append(b, '"')
	}
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			b = append(b, s[last:i]...)
			b = append(b, `\ufffd`...)
			i++
			last = i
			continue
		}
		if !escapesByte[c] {
			i++
			continue
		}
		b = append(b, s[last:i]...)
		switch c {
		case '\\', '"':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			const hex = "0123456789abcdef"
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		}
		i++
		last = i
	}
	b = append(b, s[last:]...)
	return append(b, '"')
}

// needsEscape reports whether s has a byte appendString does not copy as
// it is (escapesByte's, or one from 0x80: valid UTF-8 is copied, but
// only the slow path tells). Eight bytes at a time, the last word
// overlapping the one before; a string under eight bytes byte by byte.
func needsEscape(s string) bool {
	n := len(s)
	if n < 8 {
		for i := 0; i < n; i++ {
			if s[i] >= utf8.RuneSelf || escapesByte[s[i]] {
				return true
			}
		}
		return false
	}
	for i := 0; i+8 <= n; i += 8 {
		if escapes8(load8(s, i)) {
			return true
		}
	}
	return escapes8(load8(s, n-8))
}

// escapesByte marks the ASCII bytes zap escapes: control bytes, `"`, `\`.
var escapesByte = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// Bytes of a word, for escapes8.
const (
	ones = 0x0101010101010101
	high = 0x8080808080808080
)

// escapes8 reports whether any of the 8 bytes of x is one appendString
// does not copy as it is: below 0x20, `"`, `\`, or 0x80 and above (the
// last also found by the xor terms, but said plainly by x's own high bits). A
// byte below n makes x - n*ones borrow into its high bit (a borrow starts
// only at such a byte, so any answer is exact); `"` and `\` are found as
// the zero bytes of x xor the byte; a byte from 0x80 has its high bit.
func escapes8(x uint64) bool {
	return ((x-0x20*ones)|((x^'"'*ones)-ones)|((x^'\\'*ones)-ones)|x)&high != 0
}

// load8 reads s[i:i+8] as a little-endian word (one load: the compiler
// merges the bytes').
func load8(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
