// Package e2e holds the end-to-end tests of the chroma_auth gateway: a real
// Chroma server (the Rust server shipped in the chromadb npm package), the
// gateway binary built from ../cmd/caddy, and the real Go, JS and curl
// clients talking to Chroma through it over HTTPS with Caddy's local CA.
//
// It is a separate Go module so that the heavy chroma-go dependency stays
// out of the plugin's own go.mod. Run it with:
//
//	cd e2e && go test -race -count=1 ./...
package e2e
