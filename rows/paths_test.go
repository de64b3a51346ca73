package rows

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

// chunkReader reads at most n bytes at a time.
type chunkReader struct {
	r io.Reader
	n int
}

func (c chunkReader) Read(p []byte) (int, error) {
	if len(p) > c.n {
		p = p[:c.n]
	}
	return c.r.Read(p)
}

// class is the answer a rewrite gives, as the gateway tells them apart.
func class(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrForbidden):
		return "forbidden"
	case errors.Is(err, ErrBadBody):
		return "bad body"
	}
	return "other: " + err.Error()
}

// rewriteAll rewrites body every way the gateway can read it: in memory
// (RewriteBytes, RewriteSpans: a body under 64 KiB) and streamed in reads
// of every size (Rewrite: a longer one). It fails t unless all of them
// give the same answer (the same bytes, or the same kind of refusal), and
// returns it.
func rewriteAll(t testing.TB, body []byte, op Op, f *Filter, check IDCheck) ([]byte, error) {
	t.Helper()
	want, wantErr := RewriteBytes(body, op, f, check)
	agree := func(how string, got []byte, err error) {
		t.Helper()
		if class(err) != class(wantErr) || (err == nil && !bytes.Equal(got, want)) {
			t.Fatalf("%s gives %s %.200q, in memory %s %.200q; body %.300q", how, class(err), got, class(wantErr), want, body)
		}
	}
	parts, err := RewriteSpans(nil, body, op, f, check)
	agree("RewriteSpans", bytes.Join(parts, nil), err)
	for how, rd := range map[string]io.Reader{
		"one read":       bytes.NewReader(body),
		"a byte a read":  iotest.OneByteReader(bytes.NewReader(body)),
		"half reads":     iotest.HalfReader(bytes.NewReader(body)),
		"7-byte reads":   chunkReader{bytes.NewReader(body), 7},
		"4099-byte read": chunkReader{bytes.NewReader(body), 4099},
		"EOF with data":  iotest.DataErrReader(chunkReader{bytes.NewReader(body), 1000}),
	} {
		var out bytes.Buffer
		err := Rewrite(&out, rd, op, f, check)
		agree("streamed, "+how, out.Bytes(), err)
	}
	return want, wantErr
}

// rewriteStrict is the rewrite without the fast skip of flat arrays:
// every byte read one at a time, the oracle of the skip.
func rewriteStrict(body []byte, op Op, f *Filter, check IDCheck) ([]byte, error) {
	var out bytes.Buffer
	s := newBytesScanner(body, &out)
	s.noSkip = true
	err := rewriteBody(s, op, f, check)
	if err == nil {
		err = s.end()
	}
	return out.Bytes(), err
}

// genJSON writes a random JSON value, of the shapes the rewrite meets and
// the ones that could trip a skip: number arrays in odd spellings, arrays
// that go on with a string holding ']' or with a nested array or object,
// keys the rewrite acts on. It reports whether an array in it holds a
// number and, after it, an array: the one shape the skip refuses.
func genJSON(r *rand.Rand, b *strings.Builder, depth int) (nested bool) {
	ws := func() {
		if r.IntN(3) == 0 {
			b.WriteString([]string{" ", "\n", "\t", " \r\n "}[r.IntN(4)])
		}
	}
	num := func() {
		b.WriteString([]string{"1", "-0.5", "3.25e-7", "1E+3", "0", "-12", "6.02e23"}[r.IntN(7)])
	}
	switch k := r.IntN(10); {
	case depth > 4 || k < 2:
		num()
	case k == 2:
		b.WriteString([]string{`"a"`, `"]"`, `"x]\"["`, `"\u005d"`, `"owner"`, `"alice"`, `"bob"`}[r.IntN(7)])
	case k == 3:
		b.WriteString([]string{"true", "false", "null"}[r.IntN(3)])
	case k < 7: // an array, mostly of numbers
		b.WriteByte('[')
		n, sawNum := r.IntN(6), false
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			ws()
			if r.IntN(4) == 0 {
				at := b.Len()
				nested = genJSON(r, b, depth+1) || nested
				nested = nested || sawNum && b.String()[at] == '['
				sawNum = sawNum || b.String()[at] == '-' || '0' <= b.String()[at] && b.String()[at] <= '9'
			} else {
				num()
				sawNum = true
			}
			ws()
		}
		b.WriteByte(']')
	default: // an object
		b.WriteByte('{')
		n := r.IntN(4)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			ws()
			b.WriteString([]string{`"where"`, `"ids"`, `"metadatas"`, `"owner"`, `"x"`, `"query_embeddings"`, `"wher\u0065"`, `"filter"`, `"searches"`}[r.IntN(9)])
			ws()
			b.WriteByte(':')
			ws()
			nested = genJSON(r, b, depth+1) || nested
		}
		b.WriteByte('}')
	}
	return nested
}

func genBody(r *rand.Rand) (body []byte, nested bool) {
	var b strings.Builder
	b.WriteByte('{')
	for i := range r.IntN(5) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString([]string{`"where"`, `"ids"`, `"metadatas"`, `"query_embeddings"`, `"embeddings"`, `"x"`, `"searches"`}[r.IntN(7)])
		b.WriteString(": ")
		nested = genJSON(r, &b, 0) || nested
	}
	b.WriteByte('}')
	return []byte(b.String()), nested
}

// mutate breaks a body the ways a client could: a byte dropped, a
// structural byte or a letter slipped in, a piece repeated.
func mutate(r *rand.Rand, body []byte) []byte {
	out := bytes.Clone(body)
	for range 1 + r.IntN(3) {
		if len(out) == 0 {
			return out
		}
		i := r.IntN(len(out))
		switch r.IntN(3) {
		case 0:
			out = append(out[:i], out[i+1:]...)
		case 1:
			out = append(out[:i], append([]byte{"\"[]{},:x\\ 1-e"[r.IntN(13)]}, out[i:]...)...)
		default:
			j := i + r.IntN(len(out)-i)
			out = append(out[:j], append(bytes.Clone(out[i:j]), out[j:]...)...)
		}
	}
	return out
}

// Whatever the body, valid or broken, every way of reading it gives the
// same answer: a body under 64 KiB (read whole) and one over (streamed)
// cannot be told apart by how they are rewritten or refused.
func TestPathsAgree(t *testing.T) {
	f := alice(t)
	r := rand.New(rand.NewPCG(21, 22))
	for range 3000 {
		body, _ := genBody(r)
		if r.IntN(2) == 0 {
			body = mutate(r, body)
		}
		for op := Where; op <= Update; op++ {
			rewriteAll(t, body, op, f, nil)
		}
	}
}

// The fast skip of flat arrays against the byte-by-byte oracle, on valid
// JSON: when the skip's rewrite succeeds it is the oracle's to the byte;
// when it fails and the oracle's does not, it is a refusal of a body that
// holds a '[' after a number in one array, never another answer; and a
// body the oracle refuses, it refuses too.
func TestFlatSkipOracle(t *testing.T) {
	f := alice(t)
	r := rand.New(rand.NewPCG(31, 32))
	refused := 0
	for range 5000 {
		body, nested := genBody(r)
		if !json.Valid(body) {
			t.Fatalf("the generator made invalid JSON %s", body)
		}
		for op := Where; op <= Update; op++ {
			got, err := RewriteBytes(body, op, f, nil)
			want, werr := rewriteStrict(body, op, f, nil)
			switch {
			case err == nil && (werr != nil || !bytes.Equal(got, want)):
				t.Fatalf("%s op %d: skip gives %s, oracle %s (%v)", body, op, got, want, werr)
			case err != nil && werr == nil:
				if !errors.Is(err, ErrBadBody) || !nested {
					t.Fatalf("%s op %d: skip refuses with %v where the oracle rewrites", body, op, err)
				}
				refused++
			case err == nil && werr != nil:
				t.Fatalf("%s op %d: the oracle refuses (%v), the skip does not", body, op, werr)
			}
		}
	}
	if refused == 0 {
		t.Fatal("no body nested an array after a number: the generator does not reach that case")
	}
}

// A number followed by an array in one array is refused, not read wrong,
// wherever it stands; the same array flat, or opening with the array, is
// rewritten.
func TestFlatSkipNested(t *testing.T) {
	f := alice(t)
	for _, in := range []string{
		`{"query_embeddings":[1,[2]],"where":{"owner":"bob"}}`,
		`{"x":[1,[2],{"where":{"owner":"bob"}}],"y":1}`,
		`{"where":{"a":{"$in":[1,{},[2]]}}}`,
	} {
		if _, err := rewriteAll(t, []byte(in), Where, f, nil); !errors.Is(err, ErrBadBody) {
			t.Errorf("%s: %v, want a refusal", in, err)
		}
	}
	for in, want := range map[string]string{
		`{"query_embeddings":[[1,2],[3]],"where":{"a":1}}`:      `{"query_embeddings":[[1,2],[3]],"where":{"$and":[{"a":1},{"owner":{"$eq":"alice"}}]}}`,
		`{"e":[1,"],\"where\":{}",2],"where":{"a":[1, {} ,3]}}`: `{"e":[1,"],\"where\":{}",2],"where":{"$and":[{"a":[1, {} ,3]},{"owner":{"$eq":"alice"}}]}}`,
	} {
		if got, err := rewriteAll(t, []byte(in), Where, f, nil); err != nil || string(got) != want {
			t.Errorf("%s: %s %v, want %s", in, got, err, want)
		}
	}
}

// What the skip lets through it lets through on every path, and only
// within flatLook bytes: past that, the byte loop reads the array and
// refuses what is not a number, on every path too.
func TestFlatSkipLook(t *testing.T) {
	f := alice(t)
	array := func(n int) string {
		return "[" + strings.Repeat("0.123456789,", n/12) + "x,1]"
	}
	short := fmt.Sprintf(`{"e":%s,"where":{"a":1}}`, array(flatLook-100))
	if _, err := rewriteAll(t, []byte(short), Where, f, nil); err != nil {
		t.Fatalf("an array within flatLook: %v (it is Chroma's to refuse)", err)
	}
	long := fmt.Sprintf(`{"e":%s,"where":{"a":1}}`, array(flatLook+100))
	if _, err := rewriteAll(t, []byte(long), Where, f, nil); !errors.Is(err, ErrBadBody) {
		t.Fatalf("an array past flatLook: %v, want the byte loop's refusal", err)
	}
	if _, err := rewriteAll(t, []byte(`{"e":[1,2,],"where":{}}`), Where, f, nil); !errors.Is(err, ErrBadBody) {
		t.Fatalf("a trailing comma: %v, want a refusal", err)
	}
}
