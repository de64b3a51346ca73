package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The load generator of the production tests: a few workers, each a
// keep-alive client of its own (one connection, as a real client keeps),
// sending requests until a request count, a time limit or stop; every
// answer is checked against what that request may get.

// loadReq is one request of a load and what its answer may be.
type loadReq struct {
	kind   string // what the counters call it ("basic", "token", "none", …)
	method string
	url    string
	cred   credential
	body   string
	want   []int                               // statuses it may get
	caddys []int                               // statuses counted apart, as Caddy's (see loadStats.caddys)
	check  func(status int, body []byte) error // optional, on an allowed status
}

// loadSpec is a bounded load.
type loadSpec struct {
	workers int
	max     int64         // requests in all, at most
	limit   time.Duration // wall time, at most
	client  func() *http.Client
	next    func(worker int, i int64) loadReq
	// refusedOK counts a refused connection (the gateway has closed its
	// listener: it is stopping) as an outcome, in refused, not an error.
	refusedOK bool
}

// loadStats is what a load saw. Transport errors are split: a keep-alive
// connection the server closed (EOF, reset, "server closed idle
// connection") is counted in closed; anything else is unexpected.
type loadStats struct {
	mu         sync.Mutex
	total      int64
	statuses   map[string]map[int]int // kind → status → count (allowed ones)
	bad        map[string]int         // "kind status" → count of answers not allowed
	badSample  []string
	closed     map[string]int // kind → transport errors of a closed connection
	caddys     map[string]int // "kind status" → answers with a status of the request's caddys
	refused    map[string]int // kind → refused connections, with refusedOK
	unexpected []string       // other transport errors (the first ten)
	otherErrs  int            // how many of those there were
	done       atomic.Int64   // requests answered so far (any outcome)
}

// load is a running loadSpec.
type load struct {
	stats  *loadStats
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startLoad(ctx context.Context, s loadSpec) *load {
	ctx, cancel := context.WithTimeout(ctx, s.limit)
	l := &load{cancel: cancel, stats: &loadStats{
		statuses: map[string]map[int]int{}, bad: map[string]int{}, closed: map[string]int{}, refused: map[string]int{},
		caddys: map[string]int{},
	}}
	var issued atomic.Int64
	for w := range s.workers {
		client := s.client()
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			defer client.CloseIdleConnections()
			for ctx.Err() == nil {
				i := issued.Add(1)
				if i > s.max {
					return
				}
				l.stats.record(ctx, s, s.next(w, i), client)
			}
		}()
	}
	return l
}

// stop ends the load and returns what it saw.
func (l *load) stop() *loadStats {
	l.cancel()
	l.wg.Wait()
	return l.stats
}

func (s *loadStats) record(ctx context.Context, spec loadSpec, r loadReq, client *http.Client) {
	status, body, err := send(ctx, client, r)
	if ctx.Err() != nil && err != nil {
		return // the load was stopped mid-request: not an answer
	}
	s.done.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total++
	if err != nil {
		switch {
		case closedByServer(err):
			s.closed[r.kind]++
		case spec.refusedOK && errors.Is(err, syscall.ECONNREFUSED):
			s.refused[r.kind]++
		default:
			s.unexpectedErr(r, err)
		}
		return
	}
	ok := false
	for _, w := range r.want {
		ok = ok || w == status
	}
	if ok && r.check != nil {
		if cerr := r.check(status, body); cerr != nil {
			ok = false
			body = []byte(cerr.Error())
		}
	}
	for _, c := range r.caddys {
		if !ok && c == status {
			s.caddys[fmt.Sprintf("%s %d", r.kind, status)]++
			return
		}
	}
	if !ok {
		s.bad[fmt.Sprintf("%s %d", r.kind, status)]++
		if len(s.badSample) < 10 {
			s.badSample = append(s.badSample, fmt.Sprintf("%s %s %s → %d %s", r.kind, r.method, r.url, status, short(body)))
		}
		return
	}
	if s.statuses[r.kind] == nil {
		s.statuses[r.kind] = map[int]int{}
	}
	s.statuses[r.kind][status]++
}

func (s *loadStats) unexpectedErr(r loadReq, err error) {
	s.otherErrs++
	if len(s.unexpected) < 10 {
		s.unexpected = append(s.unexpected, fmt.Sprintf("%s %s %s: %v", r.kind, r.method, r.url, err))
	}
}

func send(ctx context.Context, client *http.Client, r loadReq) (int, []byte, error) {
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return 0, nil, err
	}
	if name, value := r.cred.header(); name != "" {
		req.Header.Set(name, value)
	}
	if r.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// closedByServer tells a transport error from a keep-alive connection the
// server closed (what Caddy does to idle connections at a reload) from any
// other failure.
func closedByServer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		strings.Contains(err.Error(), "server closed idle connection")
}

// closedTotal is the number of closed-connection transport errors.
func (s *loadStats) closedTotal() int { return sum(s.closed) }

// caddysTotal is the number of answers counted as Caddy's.
func (s *loadStats) caddysTotal() int { return sum(s.caddys) }

func sum(m map[string]int) int {
	n := 0
	for _, c := range m {
		n += c
	}
	return n
}

// count is how many answers of kind had status.
func (s *loadStats) count(kind string, status int) int {
	return s.statuses[kind][status]
}

// summary is one log line.
func (s *loadStats) summary() string {
	kinds := make([]string, 0, len(s.statuses))
	for k := range s.statuses {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var b strings.Builder
	fmt.Fprintf(&b, "%d requests;", s.total)
	for _, k := range kinds {
		fmt.Fprintf(&b, " %s %v;", k, s.statuses[k])
	}
	fmt.Fprintf(&b, " wrong answers %v; closed connections %v;", s.bad, s.closed)
	if len(s.caddys) > 0 {
		fmt.Fprintf(&b, " counted as Caddy's %v;", s.caddys)
	}
	if len(s.refused) > 0 {
		fmt.Fprintf(&b, " refused connections %v;", s.refused)
	}
	fmt.Fprintf(&b, " other transport errors %d", s.otherErrs)
	return b.String()
}

// requireClean fails on any answer a request may not get and on any
// transport error other than a closed keep-alive connection.
func (s *loadStats) requireClean(t *testing.T, what string) {
	t.Helper()
	require.Empty(t, s.bad, "%s: answers that must not happen, e.g. %v", what, s.badSample)
	require.Empty(t, s.unexpected, "%s: transport errors other than a closed connection", what)
}

// keepAliveClients makes one keep-alive client per worker for a gateway.
func keepAliveClients(t *testing.T, caRoot string) func() *http.Client {
	return func() *http.Client {
		c, err := trustingHTTPClient(caRoot)
		require.NoError(t, err)
		return c
	}
}

// prodLoadCreds are the credentials the steady loads send, each with the
// kind its counters use: Basic, a static token, and a self-issued JWT
// (its gateway's chroma_auth needs jwtLines).
func prodLoadCreds(c prodCreds) []namedCred {
	return []namedCred{
		{"basic", c.basic()},
		{"token", c.bearer()},
		{"jwt", c.jwtCred()},
	}
}

// namedCred is a credential and the kind name its counters use.
type namedCred struct {
	kind string
	cred credential
}
