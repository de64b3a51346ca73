package rowsproxy

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/lookup"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/rows"
)

// bufferedMax is the largest body rewritten in memory; a longer one
// streams (never held whole).
const bufferedMax = 64 << 10

// bodyBufs keeps the 64 KiB buffers a request body is first read into.
var bodyBufs = sync.Pool{New: func() any { b := make([]byte, bufferedMax); return &b }}

// serveBuffered rewrites body, the whole request body (in *bp, from
// bodyBufs), before the upstream is asked: a refusal never reaches it.
// The rewritten body goes on with its exact length, as spans of *bp and
// the bytes the rewrite adds (no copy).
func (p *proxy) serveBuffered(w http.ResponseWriter, d *authz.Decision, body []byte, bp *[]byte, op rows.Op, f *rows.Filter, check rows.IDCheck) Result {
	// one allocation for what the request needs past the rewrite
	x := &struct {
		pb pooledBody
		sw lookup.StatusWriter
	}{}
	parts, err := rows.RewriteSpans(x.pb.arr[:0], body, op, f, check)
	if err != nil {
		bodyBufs.Put(bp)
		return rewriteFailed(d, err)
	}
	size := 0
	for _, b := range parts {
		size += len(b)
	}
	x.pb.parts, x.pb.bp = parts, bp
	defer x.pb.Close()
	r := p.r
	r.Body, r.GetBody, r.ContentLength, r.TransferEncoding = &x.pb, nil, int64(size), nil
	if v := r.Header["Content-Length"]; len(v) == 1 {
		v[0] = strconv.Itoa(size) // the client's slice: this request's own
	} else {
		r.Header["Content-Length"] = []string{strconv.Itoa(size)}
	}
	x.sw.ResponseWriter = w
	err = p.next.ServeHTTP(&x.sw, r)
	d.Status = x.sw.Status
	if d.Status == 0 && err == nil {
		d.Status = http.StatusOK
	}
	return Result{Kind: Served, D: d, Err: err}
}

var errBodyClosed = errors.New("rowsproxy: read of a closed request body")

// pooledBody is the rewritten body as the upstream reads it: parts that
// are spans of a pooled buffer. Close (the transport's, or the handler's
// once the upstream has answered, whichever comes first) hands the buffer
// back to its pool, after a write in progress if one is; a read after
// Close fails rather than see the bytes of the request the buffer serves
// next. Close never waits for a write (the transport may close the body
// to unblock one).
type pooledBody struct {
	mu     sync.Mutex
	parts  net.Buffers
	arr    [8][]byte // parts' own array, enough for most rewrites
	bp     *[]byte
	busy   bool // a WriteTo runs, the lock not held
	closed bool
}

func (b *pooledBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || b.busy {
		return 0, errBodyClosed
	}
	return b.parts.Read(p)
}

// WriteTo writes what is left in one go (the transport's io.Copy takes
// it), without holding the lock while w blocks.
func (b *pooledBody) WriteTo(w io.Writer) (int64, error) {
	b.mu.Lock()
	if b.closed || b.busy {
		b.mu.Unlock()
		return 0, errBodyClosed
	}
	b.busy = true
	parts := b.parts
	b.parts = nil
	b.mu.Unlock()
	n, err := parts.WriteTo(w)
	b.mu.Lock()
	b.busy = false
	if b.closed {
		b.release()
	}
	b.mu.Unlock()
	return n, err
}

func (b *pooledBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		if !b.busy {
			b.release()
		}
	}
	return nil
}

// release hands the buffer back (the lock held, no write running).
func (b *pooledBody) release() {
	if b.bp != nil {
		bodyBufs.Put(b.bp)
		b.bp, b.parts = nil, nil
	}
}
