package rowsproxy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/lookup"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/rows"
)

// rowsWriters keeps the 64 KiB writers between a rewrite and the pipe to
// the upstream, one per rewrite in flight.
var rowsWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}

// rowLocks serialize the check-then-write of row-filtered writes per
// collection, across every handler instance of the process (a config
// reload does not open a gap).
var rowLocks = rows.NewLocks()

// rewriteState is what the rewrite learned, set before the upstream can
// see the end of the body.
type rewriteState struct {
	mu   sync.Mutex
	err  error
	done bool
}

func (s *rewriteState) set(err error) {
	s.mu.Lock()
	s.err, s.done = err, true
	s.mu.Unlock()
}

func (s *rewriteState) failed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err != nil
}

// guardWriter passes the upstream's answer on unless the rewrite failed
// before it came: then the upstream saw a body cut short (no write was
// made) and the gateway answers in its place.
type guardWriter struct {
	lookup.StatusWriter
	state     *rewriteState
	swallowed bool
}

func (g *guardWriter) WriteHeader(status int) {
	if g.Status == 0 && status >= 200 && g.state.failed() {
		g.swallowed = true
	}
	if g.swallowed {
		return
	}
	g.StatusWriter.WriteHeader(status)
}

func (g *guardWriter) Write(p []byte) (int, error) {
	if g.Status == 0 && !g.swallowed {
		g.WriteHeader(http.StatusOK)
	}
	if g.swallowed {
		return len(p), nil
	}
	return g.StatusWriter.Write(p)
}

// serveRewritten forwards a record request with its body rewritten for
// the identity's rows: a body under 64 KiB is read whole and rewritten
// before the upstream is asked (serveBuffered), a longer one as it
// streams (serveStreamed): no whole-body buffer, numbers copied as
// written. Writes hold their collection's lock (exclusive for the
// check-then-write of update, upsert and a conditional commit; shared for
// add) until the upstream has answered.
func (p *proxy) serveRewritten(w http.ResponseWriter, d *authz.Decision, op rows.Op, f *rows.Filter) Result {
	r, rt := p.r, *d.Route
	if ce := r.Header["Content-Encoding"]; len(ce) > 0 && ce[0] != "" && !strings.EqualFold(ce[0], "identity") {
		return badRequest(d, http.StatusUnsupportedMediaType, jsonError("InvalidArgumentError", "A compressed request body cannot be filtered for row-level security; send it uncompressed"), rowsCompressedBody)
	}
	var check rows.IDCheck
	switch op {
	case rows.Add:
		defer rowLocks.RLock(strings.ToLower(rt.Collection))()
	case rows.Upsert, rows.Update, rows.Commit:
		defer rowLocks.Lock(strings.ToLower(rt.Collection))()
		cp := *p // the check keeps a copy: p itself does not escape
		check = cp.ownershipCheck(rt, f)
	}
	src := r.Body
	if src == nil {
		src = http.NoBody
	}
	bp := bodyBufs.Get().(*[]byte)
	n, err := io.ReadFull(src, *bp)
	switch err {
	case io.EOF, io.ErrUnexpectedEOF: // all of it, under 64 KiB
		return p.serveBuffered(w, d, (*bp)[:n], bp, op, f, check)
	case nil: // 64 KiB read and maybe more: the rest streams
		return p.serveStreamed(w, d, io.MultiReader(bytes.NewReader((*bp)[:n]), src), bp, op, f, check)
	}
	bodyBufs.Put(bp)
	return rewriteFailed(d, err)
}

// serveStreamed forwards the body rewritten as it streams from src, from
// a goroutine writing into a pipe the upstream reads; bp (the buffer src
// starts with) goes back to its pool when the rewrite is done with it.
func (p *proxy) serveStreamed(w http.ResponseWriter, d *authz.Decision, src io.Reader, bp *[]byte, op rows.Op, f *rows.Filter, check rows.IDCheck) Result {
	r := p.r
	pr, pw := io.Pipe()
	state := &rewriteState{}
	res := make(chan error, 1)
	go func() {
		bw := rowsWriters.Get().(*bufio.Writer)
		bw.Reset(pw)
		err := rows.Rewrite(bw, src, op, f, check)
		bodyBufs.Put(bp)
		if err == nil {
			err = bw.Flush()
		}
		bw.Reset(nil)
		rowsWriters.Put(bw)
		state.set(err)
		if err != nil {
			pw.CloseWithError(err)
		} else {
			pw.Close()
		}
		res <- err
	}()
	r.Body, r.GetBody, r.ContentLength = pr, nil, -1
	r.Header.Del("Content-Length")
	gw := &guardWriter{StatusWriter: lookup.StatusWriter{ResponseWriterWrapper: caddyhttp.ResponseWriterWrapper{ResponseWriter: w}}, state: state}
	err := p.next.ServeHTTP(gw, r)
	pr.CloseWithError(errUpstreamDone)
	var rerr error
	select {
	case rerr = <-res:
	case <-r.Context().Done():
		rerr = r.Context().Err()
	}
	if rerr == nil || (gw.Status != 0 && !gw.swallowed) {
		d.Status = gw.Status
		if d.Status == 0 && err == nil {
			d.Status = http.StatusOK
		}
		return Result{Kind: Served, D: d, Err: err}
	}
	return rewriteFailed(d, rerr)
}

var errUpstreamDone = errors.New("the upstream answered")

// rewriteFailed is the answer to a request whose rewrite did not
// complete: nothing was written upstream.
func rewriteFailed(d *authz.Decision, err error) Result {
	var ua *upstreamAnswer
	switch {
	case errors.Is(err, rows.ErrForbidden):
		return refuse(d, rowsRefusedRecord)
	case errors.Is(err, rows.ErrBadBody):
		return badRequest(d, http.StatusBadRequest, jsonError("InvalidArgumentError", err.Error()), err.Error())
	case errors.As(err, &ua):
		d.Status = ua.status
		return Result{Kind: Answer, D: d, Status: ua.status, Body: ua.body}
	case errors.Is(err, authz.ErrUnavailable):
		d.Verdict, d.Status, d.Reason, d.Err = authz.VerdictUnavailable, http.StatusServiceUnavailable, "lookup_unavailable", err
		return Result{Kind: Refuse, D: d}
	}
	bad := authz.BadBody(d.Identity, d.Route, err)
	bad.Rule = d.Rule
	return Result{Kind: Refuse, D: &bad}
}
