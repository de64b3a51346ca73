package authz

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
)

// MemBodyBytes is how much of a body the gateway reads (on the routes
// whose action or scope is in it) stays in memory; the rest waits in a
// temporary file until it is forwarded. A body that fits is handed on
// from memory, with GetBody set, as before.
const MemBodyBytes = MaxBodyBytes

// ReadBody reads r's body as it streams, keeping only what a decision can
// need: the members named in keptKeys, at any depth, the rest of the JSON
// skipped as it goes by (a body's embeddings, documents and metadata
// cost no memory). That skeleton, a JSON text of its own (at most
// MaxBodyBytes, else ErrBodyTooLarge), is what ApplyBody reads: it
// decides the same as the whole body would (FuzzSkeleton holds it to
// that). The body itself is put back in r.Body unchanged, whatever its
// size: the first MemBodyBytes from memory, the rest from a temporary
// file (removed from the directory at once, closed when the request
// ends). So a request of any size Chroma takes is forwarded, and one
// request holds at most about 2 MiB of memory.
//
// A body that is not JSON yields a skeleton that is not JSON either, so
// that ApplyBody refuses it; reading stops there.
func ReadBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	orig := r.Body
	sp := &spool{hint: r.ContentLength}
	sc := &skeleton{in: bufio.NewReader(io.TeeReader(orig, sp)), max: MaxBodyBytes}
	sc.document()
	if sc.err == nil && sp.err != nil {
		sc.err = sp.err
	}
	r.Body = sp.body(orig, sc.err == nil)
	if sp.file != nil {
		f := sp.file
		context.AfterFunc(r.Context(), func() { _ = f.Close() })
	}
	if sp.file == nil && sc.err == nil {
		mem := sp.mem
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(mem)), nil }
	}
	switch {
	case errors.Is(sc.err, errNotJSON):
		return []byte("!"), nil // not JSON: ApplyBody says why
	case errors.Is(sc.err, ErrBodyTooLarge):
		return nil, fmt.Errorf("%w (the members the gateway reads are over %d bytes)", ErrBodyTooLarge, MaxBodyBytes)
	case sc.err != nil:
		return nil, fmt.Errorf("reading request body: %w", sc.err)
	}
	return sc.out, nil
}

// spool keeps what went by: MemBodyBytes in memory, then a temporary file.
type spool struct {
	hint int64 // the body's length, -1 when not known
	mem  []byte
	file *os.File
	size int64 // bytes in file
	err  error
}

func (s *spool) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n := len(p)
	if room := MemBodyBytes - len(s.mem); room > 0 {
		k := min(room, len(p))
		s.grow(k)
		s.mem = append(s.mem, p[:k]...)
		p = p[k:]
	}
	if len(p) == 0 {
		return n, nil
	}
	if s.file == nil {
		f, err := os.CreateTemp("", "chroma-auth-body-*")
		if err != nil {
			s.err = err
			return 0, err
		}
		_ = os.Remove(f.Name()) // open, it stays until closed; nobody else sees it
		s.file = f
	}
	k, err := s.file.Write(p)
	s.size += int64(k)
	if err != nil {
		s.err = err
		return 0, err
	}
	return n, nil
}

// grow makes room for k more bytes in mem: at once to the body's length
// when it is known, else by fours from 64 KiB, never past MemBodyBytes
// (append's own growth would allocate several times what it keeps).
func (s *spool) grow(k int) {
	need := len(s.mem) + k
	if need <= cap(s.mem) {
		return
	}
	c := max(need, 4*cap(s.mem), 64<<10)
	if s.hint > 0 {
		c = max(need, int(min(s.hint, MemBodyBytes)))
	}
	mem := make([]byte, len(s.mem), min(c, MemBodyBytes))
	copy(mem, s.mem)
	s.mem = mem
}

// body is what was read followed by what was not (nothing, when the
// whole body was read: done).
func (s *spool) body(orig io.ReadCloser, done bool) io.ReadCloser {
	parts := []io.Reader{bytes.NewReader(s.mem)}
	if s.file != nil {
		parts = append(parts, io.NewSectionReader(s.file, 0, s.size))
	}
	if !done {
		parts = append(parts, orig)
	}
	return &restoredBody{Reader: io.MultiReader(parts...), orig: orig}
}
