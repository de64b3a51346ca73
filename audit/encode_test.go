package audit

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
)

// zapLine is the line Caddy's `format json` writes for o at ts: zap's
// production JSON encoder, the audit logger's name, INFO, "decision".
func zapLine(t testing.TB, ts time.Time, o *lineObject) string {
	t.Helper()
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	ent := zapcore.Entry{Level: zapcore.InfoLevel, Time: ts, LoggerName: "http.handlers.chroma_auth.audit", Message: "decision"}
	buf, err := enc.EncodeEntry(ent, []zap.Field{zap.Inline(o)})
	if err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// nasty are strings that need each of zap's escapes, or none.
var nasty = []string{
	"", "plain", `a"b`, `back\slash`, "new\nline", "cr\rtab\t", "\x00\x01\x1f\x7f",
	"é漢字🙂", "bad\xffutf8", "\xc3", "trunc\xe6\xbc", "<html>&amp;", "\u2028\u2029", "\ufffd",
}

// randomString mixes safe bytes with every kind of byte zap treats apart.
func randomString(rng *rand.Rand) string {
	if rng.IntN(3) == 0 {
		return nasty[rng.IntN(len(nasty))]
	}
	b := make([]byte, rng.IntN(24))
	for i := range b {
		switch rng.IntN(6) {
		case 0:
			b[i] = byte(rng.IntN(0x20))
		case 1:
			b[i] = `"\`[rng.IntN(2)]
		case 2:
			b[i] = byte(0x80 + rng.IntN(0x80))
		default:
			b[i] = byte(0x20 + rng.IntN(0x5f))
		}
	}
	return string(b)
}

func randomLine(rng *rand.Rand) *lineObject {
	s := func() string {
		if rng.IntN(3) == 0 {
			return ""
		}
		return randomString(rng)
	}
	o := &lineObject{
		decision: s(), status: rng.IntN(600) - 50, user: s(), provider: s(), keyID: s(), role: s(),
		method: s(), action: s(), route: s(), tenant: s(), database: s(), reason: s(), clientIP: s(), requestID: s(),
	}
	for range rng.IntN(4) {
		o.touched = append(o.touched, authz.Touched{ID: s(), Name: s(), New: rng.IntN(2) == 0, InBody: rng.IntN(2) == 0})
	}
	return o
}

// TestAppendLineAsZap: the audit output's hand-written line is, byte for
// byte, zap's line for the same object at the same time, over random
// lines whose every string needs escapes or none (an oracle: the two
// encoders are written apart).
func TestAppendLineAsZap(t *testing.T) {
	rng := rand.New(rand.NewPCG(26, 7))
	for i := range 20000 {
		o := randomLine(rng)
		ts := time.Unix(1795610900+rng.Int64N(1e6), rng.Int64N(1e9))
		if i == 0 {
			ts = time.Unix(0, 0)
		}
		want := zapLine(t, ts, o)
		if got := string(appendLine(nil, ts, o)); got != want {
			t.Fatalf("line %d:\n got %q\nwant %q", i, got, want)
		}
	}
}

// TestAppendStringAsZap: each of the nasty strings, and every one- and
// two-byte string, is quoted as zap quotes it.
func TestAppendStringAsZap(t *testing.T) {
	check := func(s string) {
		o := &lineObject{decision: s}
		want := zapLine(t, time.Unix(1, 0), o)
		if got := string(appendLine(nil, time.Unix(1, 0), o)); got != want {
			t.Fatalf("%q:\n got %q\nwant %q", s, got, want)
		}
	}
	for _, s := range nasty {
		check(s)
	}
	for a := range 256 {
		check(string([]byte{byte(a)}))
		for b := 0; b < 256; b += 7 {
			check(string([]byte{byte(a), byte(b)}))
		}
	}
	if !utf8.ValidString(string(appendString(nil, "bad\xff"))) {
		t.Fatal("an invalid byte went through unescaped")
	}
}

// escapesRule is escapes8's definition, one byte at a time.
func escapesRule(c byte) bool { return c < 0x20 || c == '"' || c == '\\' || c >= 0x80 }

// TestEscapes8: the word test answers as the bytes do: every byte value
// at every place in a word of safe bytes, every pair of values at two
// places (borrows cross bytes), and random words.
func TestEscapes8(t *testing.T) {
	word := func(b [8]byte) uint64 { return load8(string(b[:]), 0) }
	for p := range 8 {
		for v := range 256 {
			b := [8]byte{'a', '~', ' ', '!', '#', '[', ']', 0x7f}
			b[p] = byte(v)
			want := false
			for _, c := range b {
				want = want || escapesRule(c)
			}
			if got := escapes8(word(b)); got != want {
				t.Fatalf("%q: %v, want %v", b[:], got, want)
			}
		}
	}
	for v := range 256 {
		for w := range 256 {
			for _, places := range [][2]int{{0, 1}, {3, 4}, {6, 7}, {1, 6}} {
				b := [8]byte{'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x'}
				b[places[0]], b[places[1]] = byte(v), byte(w)
				if got, want := escapes8(word(b)), escapesRule(byte(v)) || escapesRule(byte(w)); got != want {
					t.Fatalf("%q: %v, want %v", b[:], got, want)
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(8, 26))
	for range 200000 {
		var b [8]byte
		want := false
		for i := range b {
			b[i] = byte(0x20 + rng.IntN(0x60))
			if rng.IntN(16) == 0 {
				b[i] = byte(rng.IntN(256))
			}
			want = want || escapesRule(b[i])
		}
		if got := escapes8(word(b)); got != want {
			t.Fatalf("%q: %v, want %v", b[:], got, want)
		}
	}
}

// TestAppendStringLongAsZap: strings long enough for the word scan, with
// one byte to escape (or a multi-byte rune, or none) at each place, are
// quoted as zap quotes them.
func TestAppendStringLongAsZap(t *testing.T) {
	for n := range 41 {
		for p := 0; p <= n; p++ {
			for _, odd := range []string{"", `"`, `\`, "\n", "\x01", "\x7f", "é", "\xff", "🙂"} {
				s := strings.Repeat("abcdefgh", 6)[:n]
				s = s[:p] + odd + s[p:]
				o := &lineObject{requestID: s}
				want := zapLine(t, time.Unix(1, 0), o)
				if got := string(appendLine(nil, time.Unix(1, 0), o)); got != want {
					t.Fatalf("%q:\n got %q\nwant %q", s, got, want)
				}
			}
		}
	}
}
