package e2e

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// startGatewayWith is startGateway with extra lines in the global servers
// block (such as max_header_size).
func startGatewayWith(t *testing.T, serverOpts, directive string) *gateway {
	t.Helper()
	dir := t.TempDir()
	port, err := freePort()
	require.NoError(t, err)
	storage := filepath.Join(dir, "caddy-storage")
	config := filepath.Join(dir, "Caddyfile")
	text := fmt.Sprintf(gatewayCaddyfile, storage, serverOpts, port, directive, suite.chroma.addr)
	require.NoError(t, os.WriteFile(config, []byte(text), 0o600))
	return runGateway(t, gatewayRun{dir: dir, config: config, port: port, storage: storage, cwd: dir})
}

// rawTarget is where crafted bytes go: a gateway over TLS (HTTP/1.1 by
// ALPN), or Chroma's own port in plain TCP.
type rawTarget struct {
	addr string      // host:port to dial
	host string      // what the Host header and absolute-form targets name
	tls  *tls.Config // nil for plain TCP
}

func gatewayTarget(t *testing.T, g *gateway) rawTarget {
	t.Helper()
	pem, err := os.ReadFile(g.caRoot)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem))
	return rawTarget{
		addr: "127.0.0.1:" + strconv.Itoa(g.port),
		host: "localhost:" + strconv.Itoa(g.port),
		tls:  &tls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{"http/1.1"}},
	}
}

func chromaTarget() rawTarget {
	return rawTarget{addr: suite.chroma.addr, host: suite.chroma.addr}
}

// rawResponse is one response read back off the connection.
type rawResponse struct {
	status int
	body   []byte
	// upstream is true when the response came through reverse_proxy (Caddy
	// adds "Via: 1.1 Caddy" to every proxied response): the request reached
	// Chroma.
	upstream bool
}

// rawResult is everything a connection answered to one crafted write.
type rawResult struct {
	responses []rawResponse
	end       string // how the reading ended: "eof", "timeout", "reset", …
}

// statuses is the answer as "401" or "200,401" (pipelined), or how the
// connection ended when nothing came back.
func (r rawResult) statuses() string {
	if len(r.responses) == 0 {
		return "no response (" + r.end + ")"
	}
	s := make([]string, len(r.responses))
	for i, resp := range r.responses {
		s[i] = strconv.Itoa(resp.status)
	}
	return strings.Join(s, ",")
}

// sendRaw writes req as is, byte for byte, on a fresh connection to tgt
// and reads back every response until the server closes, resets or stops
// answering. firstMethod is the method of the first request (a HEAD answer
// has no body). The write runs alongside the reads, so a server that
// answers early (431) and stops reading cannot deadlock the test.
func sendRaw(t *testing.T, tgt rawTarget, req []byte, firstMethod string) rawResult {
	t.Helper()
	conn, err := net.DialTimeout("tcp", tgt.addr, 5*time.Second)
	require.NoError(t, err, "dial %s", tgt.addr)
	defer conn.Close()
	if tgt.tls != nil {
		tc := tls.Client(conn, tgt.tls)
		require.NoError(t, tc.Handshake(), "TLS handshake with %s", tgt.addr)
		conn = tc
	}
	wrote := make(chan error, 1)
	go func() {
		_, err := conn.Write(req)
		wrote <- err
	}()

	var res rawResult
	br := bufio.NewReader(conn)
	method := firstMethod
	wait := 10 * time.Second
	for {
		_ = conn.SetReadDeadline(time.Now().Add(wait))
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			res.end = readEnd(err)
			break
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		_ = resp.Body.Close()
		res.responses = append(res.responses, rawResponse{
			status:   resp.StatusCode,
			body:     body,
			upstream: strings.Contains(resp.Header.Get("Via"), "Caddy"),
		})
		if err != nil {
			res.end = readEnd(err)
			break
		}
		if resp.Close {
			res.end = "close"
			break
		}
		// Anything pipelined behind is already sent: its answer is quick.
		method, wait = http.MethodGet, 1500*time.Millisecond
	}
	_ = conn.Close()
	<-wrote
	return res
}

func readEnd(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case strings.Contains(err.Error(), "reset"):
		return "reset"
	}
	return "error: " + err.Error()
}

// rawReq assembles an HTTP/1.x request from its request line, headers and
// body, with CRLF line ends and nothing added.
func rawReq(requestLine string, headers []string, body string) []byte {
	var b bytes.Buffer
	b.WriteString(requestLine + "\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	return b.Bytes()
}

// chunked frames body as one chunk and the last chunk.
func chunked(body string) string {
	return fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body)
}
