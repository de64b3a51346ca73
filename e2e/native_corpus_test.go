package e2e

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// The side-by-side corpus (issue 19): the same CHROMA_* variables start
// Chroma 0.6.3 with its native auth and the gateway's from_env in front
// of Chroma 1.5.9; every credential kind (right for each role, wrong,
// missing, malformed) goes to every route (public and protected, actions
// each role has and lacks) of each setup.

// nativeSetup is one set of CHROMA_* variables and the credentials sent.
type nativeSetup struct {
	name  string
	env   []string
	creds []nativeCred
}

// nativeCred is a credential as it goes on the wire: header lines
// "Name: value" (none for a request without credentials).
type nativeCred struct {
	label   string
	headers []string
}

// nativeRoute is a request of the corpus. %s in path or body is replaced
// by a name of the request's own (setup and credential), so that a create
// never meets what an earlier request made.
type nativeRoute struct{ method, path, body string }

const nativeDB = "/api/v2/tenants/default_tenant/databases/default_database"

var nativeRoutes = []nativeRoute{
	// Public in Chroma 0.6 and in the gateway.
	{"GET", "/api/v2/heartbeat", ""},
	{"GET", "/api/v2/version", ""},
	{"GET", "/api/v2", ""},
	{"GET", "/api/v2/healthcheck", ""},
	{"GET", "/api/v2/pre-flight-checks", ""},
	{"GET", "/openapi.json", ""},
	{"GET", "/docs", ""},
	// Exemptions match the exact path: a trailing slash is protected.
	{"GET", "/api/v2/heartbeat/", ""},
	// The v1 API: 0.6.3 still serves it, Chroma 1.x answers it with 410 Gone.
	{"GET", "/api/v1/heartbeat", ""},
	{"GET", "/api/v1/collections", ""},
	// Protected, each an action the RBAC reader has or lacks.
	{"GET", "/api/v2/auth/identity", ""},
	{"GET", "/api/v2/tenants/default_tenant", ""},
	{"POST", "/api/v2/tenants", `{"name":"t-%s"}`},
	{"GET", "/api/v2/tenants/default_tenant/databases", ""},
	{"POST", "/api/v2/tenants/default_tenant/databases", `{"name":"d-%s"}`},
	{"GET", nativeDB, ""},
	{"GET", nativeDB + "/collections", ""},
	{"GET", nativeDB + "/collections_count", ""},
	{"POST", nativeDB + "/collections", `{"name":"c-%s"}`},
	{"GET", nativeDB + "/collections/absent-%s", ""},
	{"DELETE", nativeDB + "/collections/absent-%s", ""},
	{"POST", "/api/v2/reset", ""},
}

func basicLine(user, pass string) string {
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// Tokens and passwords of the corpus: the test's own, never real ones.
const (
	nativeAdminPass  = "s3cret-admin"
	nativeReaderPass = "s3cret-reader"
	nativeColonPass  = "pa:ss:word"
	nativeAdminTok   = "tok-admin-1"
	nativeReaderTok  = "tok-reader-1"
	nativeSingleTok  = "tok-single-1"
)

// nativeRBAC gives the admin every action of the corpus and the reader
// only reads.
const nativeRBAC = `roles_mapping:
  admin:
    actions: [system:reset, tenant:create_tenant, tenant:get_tenant, db:create_database, db:get_database,
      db:list_databases, db:list_collections, db:count_collections, db:create_collection,
      collection:get_collection, collection:delete_collection]
  reader:
    actions: [tenant:get_tenant, db:get_database, db:list_collections, db:count_collections,
      collection:get_collection]
users:
  - { id: admin, role: admin }
  - { id: reader, role: reader }
`

func nativeSetups(t *testing.T, dir string) []nativeSetup {
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(data), 0o600))
		return p
	}
	var ht strings.Builder
	for _, u := range [][2]string{{"admin", nativeAdminPass}, {"reader", nativeReaderPass}, {"colon", nativeColonPass}} {
		hash, err := bcrypt.GenerateFromPassword([]byte(u[1]), bcrypt.MinCost)
		require.NoError(t, err)
		ht.WriteString(u[0] + ":" + string(hash) + "\n")
	}
	htpasswd := write("server.htpasswd", ht.String())
	users := write("users.yaml", "users:\n"+
		"  - id: admin\n    role: admin\n    tokens: ["+nativeAdminTok+"]\n"+
		"  - id: reader\n    role: reader\n    tokens: ["+nativeReaderTok+"]\n")
	rbac := write("rbac.yaml", nativeRBAC)

	const (
		basicProvider = "CHROMA_SERVER_AUTHN_PROVIDER=chromadb.auth.basic_authn.BasicAuthenticationServerProvider"
		tokenProvider = "CHROMA_SERVER_AUTHN_PROVIDER=chromadb.auth.token_authn.TokenAuthenticationServerProvider"
	)
	cred := func(label string, headers ...string) nativeCred { return nativeCred{label, headers} }
	bearer := func(tok string) string { return "Authorization: Bearer " + tok }
	xtoken := func(tok string) string { return "X-Chroma-Token: " + tok }
	return []nativeSetup{
		{name: "basic", env: []string{basicProvider, "CHROMA_SERVER_AUTHN_CREDENTIALS_FILE=" + htpasswd}, creds: []nativeCred{
			cred("admin-right", basicLine("admin", nativeAdminPass)),
			cred("reader-right", basicLine("reader", nativeReaderPass)),
			cred("colon-password-right", basicLine("colon", nativeColonPass)),
			cred("wrong-password", basicLine("admin", nativeAdminPass+"x")),
			cred("unknown-user", basicLine("eve", nativeAdminPass)),
			cred("missing"),
			cred("malformed-base64", "Authorization: Basic !!!not-base64"),
			cred("malformed-no-colon", "Authorization: Basic "+base64.StdEncoding.EncodeToString([]byte("admin"))),
			cred("bearer-instead", bearer(nativeAdminPass)),
		}},
		{name: "token-authorization", env: []string{tokenProvider, "CHROMA_SERVER_AUTHN_CREDENTIALS=" + nativeSingleTok,
			"CHROMA_AUTH_TOKEN_TRANSPORT_HEADER=Authorization"}, creds: []nativeCred{
			cred("right", bearer(nativeSingleTok)),
			cred("wrong", bearer(nativeSingleTok+"x")),
			cred("missing"),
			cred("malformed-empty", "Authorization: Bearer"),
			cred("malformed-basic-scheme", basicLine("anonymous", nativeSingleTok)),
			cred("other-header", xtoken(nativeSingleTok)),
		}},
		{name: "token-x-chroma-token", env: []string{tokenProvider, "CHROMA_SERVER_AUTHN_CREDENTIALS_FILE=" + users,
			"CHROMA_AUTH_TOKEN_TRANSPORT_HEADER=X-Chroma-Token"}, creds: []nativeCred{
			cred("admin-right", xtoken(nativeAdminTok)),
			cred("reader-right", xtoken(nativeReaderTok)),
			cred("wrong", xtoken(nativeAdminTok+"x")),
			cred("missing"),
			cred("malformed-space", xtoken(nativeAdminTok+" x")),
			cred("other-header", bearer(nativeAdminTok)),
		}},
		{name: "token-rbac", env: []string{tokenProvider, "CHROMA_SERVER_AUTHN_CREDENTIALS_FILE=" + users,
			"CHROMA_AUTH_TOKEN_TRANSPORT_HEADER=Authorization",
			"CHROMA_SERVER_AUTHZ_PROVIDER=chromadb.auth.simple_rbac_authz.SimpleRBACAuthorizationProvider",
			"CHROMA_SERVER_AUTHZ_CONFIG_FILE=" + rbac}, creds: []nativeCred{
			cred("admin-right", bearer(nativeAdminTok)),
			cred("reader-right", bearer(nativeReaderTok)),
			cred("wrong", bearer(nativeReaderTok+"x")),
			cred("missing"),
			cred("malformed-empty", "Authorization: Bearer"),
		}},
	}
}
