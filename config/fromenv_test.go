package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

const (
	basic05 = "chromadb.auth.basic_authn.BasicAuthenticationServerProvider"
	token05 = "chromadb.auth.token_authn.TokenAuthenticationServerProvider"
	basic04 = "chromadb.auth.basic.BasicAuthServerProvider"
	token04 = "chromadb.auth.token.TokenAuthServerProvider"
	rbac05  = "chromadb.auth.simple_rbac_authz.SimpleRBACAuthorizationProvider"
	rbac04  = "chromadb.auth.authz.SimpleRBACAuthorizationProvider"
)

func TestApplyChromaEnv(t *testing.T) {
	type want struct {
		htpasswd   string
		tokens     []string
		tokenFiles []string
		header     string
		authz      string
	}
	cases := []struct {
		name string
		env  map[string]string
		want want
	}{
		{"0.5 basic with file",
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": basic05, "CHROMA_SERVER_AUTHN_CREDENTIALS_FILE": "/etc/chroma/htpasswd"},
			want{htpasswd: "/etc/chroma/htpasswd"}},
		{"0.4 basic class with 0.4 file",
			map[string]string{"CHROMA_SERVER_AUTH_PROVIDER": basic04, "CHROMA_SERVER_AUTH_CREDENTIALS_FILE": "/srv/server.htpasswd"},
			want{htpasswd: "/srv/server.htpasswd"}},
		{"0.4 shorthand basic",
			map[string]string{"CHROMA_SERVER_AUTH_PROVIDER": "basic", "CHROMA_SERVER_AUTH_CREDENTIALS_FILE": "/h"},
			want{htpasswd: "/h"}},
		{"shorthand is case-insensitive and trimmed",
			map[string]string{"CHROMA_SERVER_AUTH_PROVIDER": " Basic\n", "CHROMA_SERVER_AUTHN_CREDENTIALS_FILE": "/h"},
			want{htpasswd: "/h"}},
		{"0.5 provider with 0.4 file name",
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": basic05, "CHROMA_SERVER_AUTH_CREDENTIALS_FILE": "/h"},
			want{htpasswd: "/h"}},
		{"0.5 token inline",
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": token05, "CHROMA_SERVER_AUTHN_CREDENTIALS": "test-token"},
			want{tokens: []string{"test-token"}}},
		{"0.5 token inline with a trailing newline",
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": token05, "CHROMA_SERVER_AUTHN_CREDENTIALS": "test-token\n"},
			want{tokens: []string{"test-token"}}},
		{"0.4 token inline",
			map[string]string{"CHROMA_SERVER_AUTH_PROVIDER": token04, "CHROMA_SERVER_AUTH_CREDENTIALS": "tok04"},
			want{tokens: []string{"tok04"}}},
		{"0.4 shorthand token",
			map[string]string{"CHROMA_SERVER_AUTH_PROVIDER": "token", "CHROMA_SERVER_AUTH_CREDENTIALS": "tok"},
			want{tokens: []string{"tok"}}},
		{"token with braces stays literal",
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": token05, "CHROMA_SERVER_AUTHN_CREDENTIALS": "a{env.HOME}b"},
			want{tokens: []string{`a\{env.HOME\}b`}}},
		{"token file (users YAML or plain)",
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": token05, "CHROMA_SERVER_AUTHN_CREDENTIALS_FILE": "/etc/chroma/users.yaml"},
			want{tokenFiles: []string{"/etc/chroma/users.yaml"}}},
		{"0.4 token file",
			map[string]string{"CHROMA_SERVER_AUTH_PROVIDER": token04, "CHROMA_SERVER_AUTH_CREDENTIALS_FILE": "/t"},
			want{tokenFiles: []string{"/t"}}},
		{"0.4 credentials provider variable is ignored",
			map[string]string{"CHROMA_SERVER_AUTH_PROVIDER": token04, "CHROMA_SERVER_AUTH_CREDENTIALS": "tok",
				"CHROMA_SERVER_AUTH_CREDENTIALS_PROVIDER": "chromadb.auth.token.TokenConfigServerAuthCredentialsProvider"},
			want{tokens: []string{"tok"}}},
		{"header Authorization",
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": token05, "CHROMA_SERVER_AUTHN_CREDENTIALS": "t", "CHROMA_AUTH_TOKEN_TRANSPORT_HEADER": "Authorization"},
			want{tokens: []string{"t"}, header: "Authorization"}},
		{"header AUTHORIZATION",
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": token05, "CHROMA_SERVER_AUTHN_CREDENTIALS": "t", "CHROMA_AUTH_TOKEN_TRANSPORT_HEADER": "AUTHORIZATION"},
			want{tokens: []string{"t"}, header: "Authorization"}},
		{"header X-Chroma-Token",
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": token05, "CHROMA_SERVER_AUTHN_CREDENTIALS": "t", "CHROMA_AUTH_TOKEN_TRANSPORT_HEADER": "X-Chroma-Token"},
			want{tokens: []string{"t"}, header: "X-Chroma-Token"}},
		{"header X_CHROMA_TOKEN",
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": token05, "CHROMA_SERVER_AUTHN_CREDENTIALS": "t", "CHROMA_AUTH_TOKEN_TRANSPORT_HEADER": "X_CHROMA_TOKEN"},
			want{tokens: []string{"t"}, header: "X-Chroma-Token"}},
		{"0.4 header variable",
			map[string]string{"CHROMA_SERVER_AUTH_PROVIDER": "token", "CHROMA_SERVER_AUTH_CREDENTIALS": "t", "CHROMA_SERVER_AUTH_TOKEN_TRANSPORT_HEADER": "X_CHROMA_TOKEN"},
			want{tokens: []string{"t"}, header: "X-Chroma-Token"}},
		{"both header names, same value",
			map[string]string{"CHROMA_SERVER_AUTH_PROVIDER": "token", "CHROMA_SERVER_AUTH_CREDENTIALS": "t",
				"CHROMA_AUTH_TOKEN_TRANSPORT_HEADER": "X_CHROMA_TOKEN", "CHROMA_SERVER_AUTH_TOKEN_TRANSPORT_HEADER": "X_CHROMA_TOKEN"},
			want{tokens: []string{"t"}, header: "X-Chroma-Token"}},
		{"both provider names, same value",
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": "basic", "CHROMA_SERVER_AUTH_PROVIDER": "basic", "CHROMA_SERVER_AUTHN_CREDENTIALS_FILE": "/h"},
			want{htpasswd: "/h"}},
		{"0.5 RBAC",
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": token05, "CHROMA_SERVER_AUTHN_CREDENTIALS_FILE": "/u.yaml",
				"CHROMA_SERVER_AUTHZ_PROVIDER": rbac05, "CHROMA_SERVER_AUTHZ_CONFIG_FILE": "/authz.yaml"},
			want{tokenFiles: []string{"/u.yaml"}, authz: "/authz.yaml"}},
		{"0.4 RBAC class path",
			map[string]string{"CHROMA_SERVER_AUTH_PROVIDER": "basic", "CHROMA_SERVER_AUTH_CREDENTIALS_FILE": "/h",
				"CHROMA_SERVER_AUTHZ_PROVIDER": rbac04, "CHROMA_SERVER_AUTHZ_CONFIG_FILE": "/authz.yaml"},
			want{htpasswd: "/h", authz: "/authz.yaml"}},
		{"blank variables count as unset",
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": basic05, "CHROMA_SERVER_AUTHN_CREDENTIALS_FILE": "/h",
				"CHROMA_SERVER_AUTHN_CREDENTIALS": "", "CHROMA_AUTH_TOKEN_TRANSPORT_HEADER": " ", "CHROMA_SERVER_AUTHZ_PROVIDER": ""},
			want{htpasswd: "/h"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := &Handler{FromEnv: true}
			require.NoError(t, h.applyChromaEnv(envOf(tc.env)))
			assert.Equal(t, tc.want.htpasswd, h.HtpasswdFile)
			assert.Equal(t, tc.want.tokens, h.Tokens)
			assert.Equal(t, tc.want.tokenFiles, h.TokenFiles)
			assert.Equal(t, tc.want.header, h.TokenHeader)
			assert.Equal(t, tc.want.authz, h.AuthzFile)
			assert.Empty(t, h.UsersFile)
		})
	}
}

func TestApplyChromaEnvErrors(t *testing.T) {
	const secret = "s3cret-Value-42"
	cases := []struct {
		name string
		cfg  Handler
		env  map[string]string
		want []string // substrings of the error
	}{
		{"nothing set", Handler{}, map[string]string{},
			[]string{"CHROMA_SERVER_AUTHN_PROVIDER", "CHROMA_SERVER_AUTH_PROVIDER", basic05, token05}},
		{"unknown provider lists accepted ones", Handler{},
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": "chromadb.auth.fancy.Provider", "CHROMA_SERVER_AUTHN_CREDENTIALS_FILE": "/h"},
			[]string{"CHROMA_SERVER_AUTHN_PROVIDER", "chromadb.auth.fancy.Provider", basic05, token05, basic04, token04, "basic", "token"}},
		{"unknown 0.4 provider", Handler{},
			map[string]string{"CHROMA_SERVER_AUTH_PROVIDER": "htpasswd", "CHROMA_SERVER_AUTH_CREDENTIALS_FILE": "/h"},
			[]string{"CHROMA_SERVER_AUTH_PROVIDER", "want one of"}},
		{"provider without credentials", Handler{},
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": basic05},
			[]string{"no credentials", "CHROMA_SERVER_AUTHN_CREDENTIALS_FILE"}},
		{"0.4 provider without credentials", Handler{},
			map[string]string{"CHROMA_SERVER_AUTH_PROVIDER": "token"},
			[]string{"CHROMA_SERVER_AUTH_PROVIDER is set but no credentials"}},
		{"credentials without provider", Handler{},
			map[string]string{"CHROMA_SERVER_AUTHN_CREDENTIALS": secret},
			[]string{"CHROMA_SERVER_AUTHN_CREDENTIALS is set but CHROMA_SERVER_AUTHN_PROVIDER is not"}},
		{"credentials file without provider", Handler{},
			map[string]string{"CHROMA_SERVER_AUTH_CREDENTIALS_FILE": "/h"},
			[]string{"CHROMA_SERVER_AUTH_CREDENTIALS_FILE is set but"}},
		{"inline and file", Handler{},
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": token05, "CHROMA_SERVER_AUTHN_CREDENTIALS": secret, "CHROMA_SERVER_AUTHN_CREDENTIALS_FILE": "/t"},
			[]string{"both set", "keep one"}},
		{"new and old names disagree", Handler{},
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": token05, "CHROMA_SERVER_AUTHN_CREDENTIALS": secret, "CHROMA_SERVER_AUTH_CREDENTIALS": secret + "x"},
			[]string{"CHROMA_SERVER_AUTHN_CREDENTIALS and CHROMA_SERVER_AUTH_CREDENTIALS are both set, to different values"}},
		{"providers disagree", Handler{},
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": token05, "CHROMA_SERVER_AUTH_PROVIDER": "basic", "CHROMA_SERVER_AUTHN_CREDENTIALS_FILE": "/h"},
			[]string{"CHROMA_SERVER_AUTHN_PROVIDER and CHROMA_SERVER_AUTH_PROVIDER"}},
		{"basic with a plain password", Handler{},
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": basic05, "CHROMA_SERVER_AUTHN_CREDENTIALS": "admin:" + secret},
			[]string{"CHROMA_SERVER_AUTHN_CREDENTIALS must hold user:bcrypt-hash lines", "caddy chroma-auth htpasswd add", "CHROMA_SERVER_AUTHN_CREDENTIALS_FILE"}},
		{"0.4 basic with a plain password", Handler{},
			map[string]string{"CHROMA_SERVER_AUTH_PROVIDER": basic04, "CHROMA_SERVER_AUTH_CREDENTIALS": "admin:" + secret},
			[]string{"CHROMA_SERVER_AUTH_CREDENTIALS must hold user:bcrypt-hash lines"}},
		{"basic with htpasswd lines beside a basic file", Handler{HtpasswdFile: "server.htpasswd"},
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": "basic",
				"CHROMA_SERVER_AUTHN_CREDENTIALS": "admin:$2y$05$" + strings.Repeat("A", 53)},
			[]string{"holds htpasswd lines", "keep one"}},
		{"token inline YAML", Handler{},
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": token05, "CHROMA_SERVER_AUTHN_CREDENTIALS": "users:\n  - id: a\n    tokens: [" + secret + "]"},
			[]string{"several lines", "CHROMA_SERVER_AUTHN_CREDENTIALS_FILE"}},
		{"bad header", Handler{},
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": token05, "CHROMA_SERVER_AUTHN_CREDENTIALS": secret, "CHROMA_AUTH_TOKEN_TRANSPORT_HEADER": "X-Api-Key"},
			[]string{"CHROMA_AUTH_TOKEN_TRANSPORT_HEADER", "X-Api-Key", "Authorization or X-Chroma-Token"}},
		{"header contradicts the config", Handler{TokenHeader: "Authorization"},
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": token05, "CHROMA_SERVER_AUTHN_CREDENTIALS": secret, "CHROMA_AUTH_TOKEN_TRANSPORT_HEADER": "X_CHROMA_TOKEN"},
			[]string{"token_header"}},
		{"htpasswd contradicts the config", Handler{HtpasswdFile: "/a"},
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": basic05, "CHROMA_SERVER_AUTHN_CREDENTIALS_FILE": "/b"},
			[]string{"keep one"}},
		{"authz provider without file", Handler{},
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": token05, "CHROMA_SERVER_AUTHN_CREDENTIALS": secret, "CHROMA_SERVER_AUTHZ_PROVIDER": rbac05},
			[]string{"CHROMA_SERVER_AUTHZ_CONFIG_FILE"}},
		{"authz file without provider", Handler{},
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": token05, "CHROMA_SERVER_AUTHN_CREDENTIALS": secret, "CHROMA_SERVER_AUTHZ_CONFIG_FILE": "/a"},
			[]string{"CHROMA_SERVER_AUTHZ_PROVIDER", rbac05}},
		{"unknown authz provider", Handler{},
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": token05, "CHROMA_SERVER_AUTHN_CREDENTIALS": secret,
				"CHROMA_SERVER_AUTHZ_PROVIDER": "chromadb.auth.opa.OPA", "CHROMA_SERVER_AUTHZ_CONFIG_FILE": "/a"},
			[]string{"chromadb.auth.opa.OPA", rbac05, rbac04}},
		{"inline authz config", Handler{},
			map[string]string{"CHROMA_SERVER_AUTHN_PROVIDER": token05, "CHROMA_SERVER_AUTHN_CREDENTIALS": secret,
				"CHROMA_SERVER_AUTHZ_PROVIDER": rbac05, "CHROMA_SERVER_AUTHZ_CONFIG": "roles_mapping: {}"},
			[]string{"CHROMA_SERVER_AUTHZ_CONFIG", "not supported"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.cfg
			err := h.applyChromaEnv(envOf(tc.env))
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), secret, "a secret leaked into the error")
			assert.NotContains(t, err.Error(), "$2y$", "a hash leaked into the error")
		})
	}
}

// The configuration may already name credentials: with nothing in the
// environment they stay as they are, and the environment adds to them.
func TestApplyChromaEnvMergesWithConfig(t *testing.T) {
	h := &Handler{Tokens: []string{"cfg-token"}, TokenHeader: "x_chroma_token"}
	require.NoError(t, h.applyChromaEnv(envOf(nil)))
	assert.Equal(t, []string{"cfg-token"}, h.Tokens)

	require.NoError(t, h.applyChromaEnv(envOf(map[string]string{
		"CHROMA_SERVER_AUTHN_PROVIDER": "token", "CHROMA_SERVER_AUTHN_CREDENTIALS": "env-token",
		"CHROMA_AUTH_TOKEN_TRANSPORT_HEADER": "X-Chroma-Token",
	})))
	assert.Equal(t, []string{"cfg-token", "env-token"}, h.Tokens)
	assert.Equal(t, "X-Chroma-Token", h.TokenHeader)

	// Applying twice (Provision runs again on a config reload of a copy)
	// does not duplicate.
	require.NoError(t, h.applyChromaEnv(envOf(map[string]string{
		"CHROMA_SERVER_AUTHN_PROVIDER": "token", "CHROMA_SERVER_AUTHN_CREDENTIALS": "env-token",
	})))
	assert.Equal(t, []string{"cfg-token", "env-token"}, h.Tokens)
}

// What applyChromaEnv sets goes through the handler's placeholder
// replacement unchanged: a token or path with braces is taken literally.
func TestApplyChromaEnvValuesAreLiteral(t *testing.T) {
	for _, tok := range []string{"plain", "a{env.HOME}b", "}{", `back\{slash`, "{}", "x}", "{http.request.uri}"} {
		t.Run(tok, func(t *testing.T) {
			h := &Handler{}
			require.NoError(t, h.applyChromaEnv(envOf(map[string]string{
				"CHROMA_SERVER_AUTHN_PROVIDER": token05, "CHROMA_SERVER_AUTHN_CREDENTIALS": tok,
			})))
			assert.Equal(t, []string{tok}, h.Sources().Tokens)
		})
	}
	h := &Handler{}
	require.NoError(t, h.applyChromaEnv(envOf(map[string]string{
		"CHROMA_SERVER_AUTHN_PROVIDER": basic05, "CHROMA_SERVER_AUTHN_CREDENTIALS_FILE": "/etc/{weird}/htpasswd",
	})))
	assert.Equal(t, "/etc/{weird}/htpasswd", h.Sources().HtpasswdFile)
}

// Every accepted provider value, by each variable name.
func TestApplyChromaEnvEveryProviderSpelling(t *testing.T) {
	for value, kind := range chromaAuthnProviders {
		for _, pv := range envAuthnProvider {
			for _, fv := range envCredsFile {
				t.Run(fmt.Sprintf("%s=%s/%s", pv, value, fv), func(t *testing.T) {
					h := &Handler{}
					require.NoError(t, h.applyChromaEnv(envOf(map[string]string{pv: value, fv: "/creds"})))
					if kind == envBasic {
						assert.Equal(t, "/creds", h.HtpasswdFile)
						assert.Empty(t, h.TokenFiles)
					} else {
						assert.Equal(t, []string{"/creds"}, h.TokenFiles)
						assert.Empty(t, h.HtpasswdFile)
					}
				})
			}
		}
	}
}
