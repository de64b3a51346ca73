package jwtauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://idp.example.com/jwks.json":                    "https://idp.example.com/jwks.json",
		"https://user:s3cret@idp.example.com/jwks?api_key=k3y": "https://REDACTED@idp.example.com/jwks?REDACTED",
		"https://s3cret@idp.example.com/realms/main":           "https://REDACTED@idp.example.com/realms/main",
		"https://idp.example.com/jwks?api_key=k3y#frag":        "https://idp.example.com/jwks?REDACTED",
		"https://idp.example.com/jwks?":                        "https://idp.example.com/jwks?REDACTED",
		"http://[::1]:%zz/s3cret":                              "(a URL that does not parse)",
		"https://idp.example.com/.well-known/x?token=k3y&a=b":  "https://idp.example.com/.well-known/x?REDACTED",
	} {
		assert.Equal(t, want, RedactURL(in), in)
	}
}

// Every error of a fetch names the URL without its user-info or query.
func TestFetchErrorsRedactTheURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/bad":
			w.WriteHeader(http.StatusInternalServerError)
		case "/.well-known/openid-configuration":
			_, _ = w.Write([]byte(`{"issuer":"https://other?api_key=k3y","jwks_uri":"x"}`))
		default:
			_, _ = w.Write([]byte(`not json`))
		}
	}))
	defer srv.Close()
	secretURL := func(path string) string {
		return strings.Replace(srv.URL, "http://", "http://user:s3cret@", 1) + path + "?api_key=k3y"
	}
	cases := []*Config{
		{JWKSURL: secretURL("/bad")},
		{JWKSURL: secretURL("/notjson")},
		{JWKSURL: "http://user:s3cret@127.0.0.1:1/jwks?api_key=k3y"},
		{JWKSURL: "http://user:s3cret@\x7f/jwks?api_key=k3y"},
		{Issuer: strings.Replace(srv.URL, "http://", "http://user:s3cret@", 1)},
	}
	for _, c := range cases {
		_, err := fetchRemote(context.Background(), srv.Client(), c)
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "s3cret", err.Error())
		assert.NotContains(t, err.Error(), "k3y", err.Error())
	}
	err := (&Config{JWKSURL: "ftp://user:s3cret@x/?api_key=k3y", Audience: []string{"a"}}).Validate()
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cret")
	assert.NotContains(t, err.Error(), "k3y")
}
