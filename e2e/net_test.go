package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// freePort asks the kernel for a free loopback TCP port. Another process
// could take it before ours binds it; the suite's own processes are the
// only ones likely to, and they get their ports from here one at a time.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// trustingHTTPClient is an HTTP client that trusts only the CA root in
// caFile. It is a new client each time, never http.DefaultClient: chroma-go
// v0.3.5 replaces http.DefaultClient.Transport whenever a client is made.
func trustingHTTPClient(caFile string) (*http.Client, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
	}
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}, nil
}

// plainHTTPClient talks plain HTTP (to Chroma directly).
func plainHTTPClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
}

// waitFor polls url until it answers 200 or the process dies or the time
// runs out; it returns the body of the 200.
func waitFor(ctx context.Context, client *http.Client, url string, p *process) ([]byte, error) {
	var lastErr error
	for {
		if dead, err := p.exited(); dead {
			return nil, fmt.Errorf("%s exited before %s answered (%v); its log:\n%s", p.name, url, err, p.log())
		}
		body, err := get(ctx, client, url)
		if err == nil {
			return body, nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: %s did not answer 200 in time: %v; its log:\n%s", p.name, url, lastErr, p.log())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// get fetches url and wants a 200.
func get(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	return body, nil
}
