// Command upstream is the fixed upstream of the benchmark: it answers every
// request with a small JSON body, like Chroma's heartbeat, on a loopback
// address. It stands in for Chroma so that the gateways, not the database,
// are what is measured.
//
// It also answers, as Chroma does, the listing of a database's collections
// (with limit and offset) and a collection by id (GET
// .../collections/by-id/{id}), for the gateways whose requests need the
// collections' names: grants by id and filtered listings.
//
//	go run ./bench/cmd/upstream -addr 127.0.0.1:18000
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18000", "loopback address to listen on")
	ncoll := flag.Int("collections", 1000, "collections every database lists (GET .../collections), named bench-0000, bench-0001, …")
	flag.Parse()
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		log.Fatalf("upstream: -addr %q: %v", *addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		log.Fatalf("upstream: -addr %q: only loopback addresses", *addr)
	}
	body := []byte(`{"nanosecond heartbeat":1732345678901234567}`)
	clen := strconv.Itoa(len(body))
	colls := newCollections(*ncoll)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if colls.serve(w, r) {
			return
		}
		// A credential must never reach the upstream unless forwarded on
		// purpose: count it in a header so the harness can check.
		hdr := w.Header()
		hdr["Content-Type"] = []string{"application/json"}
		hdr["Content-Length"] = []string{clen}
		if r.Header.Get("Authorization") != "" || strings.TrimSpace(r.Header.Get("X-Chroma-Token")) != "" {
			hdr["X-Upstream-Saw-Credentials"] = []string{"1"}
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
	srv := &http.Server{
		Addr:              *addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          log.New(nopWriter{}, "", 0),
	}
	log.Fatal(srv.ListenAndServe())
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }
