// Command caddy is Caddy with its standard modules and the chroma_auth
// handler: one binary that is a TLS and authentication gateway for Chroma.
//
//	go run ./cmd/caddy run --config Caddyfile.example
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/caddy-chroma-auth/caddy-chroma-auth"
)

func main() {
	caddycmd.Main()
}
