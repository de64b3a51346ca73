package authz

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	tp   = "/api/v2/tenants/acme/databases/prod"
	cid  = "5f2c1a9e-7d41-4b0a-9a53-0c3c2f1e8b77"
	cp   = tp + "/collections/" + cid
	v1cp = "/api/v1/collections/" + cid
)

type want struct {
	action, tenant, database, collection  string
	public, identity, unscoped, byID, crn bool
}

func req(method, target, body string) *http.Request {
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, target, nil)
	} else {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
	}
	return r
}

func TestClassifyEveryRoute(t *testing.T) {
	cases := []struct {
		method, path, body string
		want               want
	}{
		// v2: public, authentication-only, identity
		{"GET", "/api/v2", "", want{public: true}},
		{"GET", "/api/v2/heartbeat", "", want{public: true}},
		{"GET", "/api/v2/version", "", want{public: true}},
		{"GET", "/api/v2/healthcheck", "", want{public: true}},
		{"HEAD", "/api/v2/heartbeat", "", want{public: true}},
		{"GET", "/api/v2/pre-flight-checks", "", want{}},
		{"GET", "/api/v2/auth/identity", "", want{identity: true}},
		{"POST", "/api/v2/reset", "", want{action: "system:reset"}},
		// v2: tenants and databases
		{"POST", "/api/v2/tenants", `{"name":"beta"}`, want{action: "tenant:create_tenant", tenant: "beta"}},
		{"GET", "/api/v2/tenants/acme", "", want{action: "tenant:get_tenant", tenant: "acme"}},
		{"HEAD", "/api/v2/tenants/acme", "", want{action: "tenant:get_tenant", tenant: "acme"}},
		{"PATCH", "/api/v2/tenants/acme", `{"resource_name":"x"}`, want{action: "tenant:update_tenant", tenant: "acme"}},
		{"GET", "/api/v2/tenants/acme/databases", "", want{action: "db:list_databases", tenant: "acme"}},
		{"GET", "/api/v2/tenants/acme/databases?limit=3&offset=1", "", want{action: "db:list_databases", tenant: "acme"}},
		{"POST", "/api/v2/tenants/acme/databases", `{"name":"dev"}`, want{action: "db:create_database", tenant: "acme", database: "dev"}},
		{"GET", tp, "", want{action: "db:get_database", tenant: "acme", database: "prod"}},
		{"DELETE", tp, "", want{action: "db:delete_database", tenant: "acme", database: "prod"}},
		// v2: collections of a database
		{"GET", tp + "/collections", "", want{action: "db:list_collections", tenant: "acme", database: "prod"}},
		{"POST", tp + "/collections", `{"name":"docs"}`, want{action: "db:create_collection", tenant: "acme", database: "prod"}},
		{"POST", tp + "/collections", `{"name":"docs","get_or_create":true}`, want{action: "db:get_or_create_collection", tenant: "acme", database: "prod"}},
		{"POST", tp + "/collections", `{"name":"docs","get_or_create":false}`, want{action: "db:create_collection", tenant: "acme", database: "prod"}},
		{"GET", tp + "/collections_count", "", want{action: "db:count_collections", tenant: "acme", database: "prod"}},
		{"GET", tp + "/collections/by-id/" + cid, "", want{action: "collection:get_collection", tenant: "acme", database: "prod", collection: cid, byID: true}},
		{"GET", "/api/v2/collections/acme:prod:docs", "", want{action: "collection:get_collection_by_crn", tenant: "acme", database: "prod", collection: "docs", crn: true}},
		// v2: one collection
		{"GET", tp + "/collections/docs", "", want{action: "collection:get_collection", tenant: "acme", database: "prod", collection: "docs"}},
		{"PUT", cp, `{"new_name":"x"}`, want{action: "collection:update_collection", tenant: "acme", database: "prod", collection: cid, byID: true}},
		{"DELETE", tp + "/collections/docs", "", want{action: "collection:delete_collection", tenant: "acme", database: "prod", collection: "docs"}},
		{"POST", cp + "/fork", `{"new_name":"y"}`, want{action: "collection:fork_collection", tenant: "acme", database: "prod", collection: cid, byID: true}},
		{"GET", cp + "/fork_count", "", want{action: "collection:count_forks", tenant: "acme", database: "prod", collection: cid, byID: true}},
		{"POST", cp + "/add", "{}", want{action: "collection:add", tenant: "acme", database: "prod", collection: cid, byID: true}},
		{"POST", cp + "/update", "{}", want{action: "collection:update", tenant: "acme", database: "prod", collection: cid, byID: true}},
		{"POST", cp + "/upsert", "{}", want{action: "collection:upsert", tenant: "acme", database: "prod", collection: cid, byID: true}},
		{"POST", cp + "/delete", "{}", want{action: "collection:delete", tenant: "acme", database: "prod", collection: cid, byID: true}},
		{"POST", cp + "/get", "{}", want{action: "collection:get", tenant: "acme", database: "prod", collection: cid, byID: true}},
		{"POST", cp + "/query", "{}", want{action: "collection:query", tenant: "acme", database: "prod", collection: cid, byID: true}},
		{"POST", cp + "/search", "{}", want{action: "collection:search", tenant: "acme", database: "prod", collection: cid, byID: true}},
		{"GET", cp + "/count", "", want{action: "collection:count", tenant: "acme", database: "prod", collection: cid, byID: true}},
		{"GET", cp + "/indexing_status", "", want{action: "collection:count", tenant: "acme", database: "prod", collection: cid, byID: true}},
		{"POST", cp + "/conditional/get", "{}", want{action: "collection:get", tenant: "acme", database: "prod", collection: cid, byID: true}},
		{"POST", cp + "/conditional/commit", `{"operations":[{"operation":"update"}]}`, want{action: "collection:update", tenant: "acme", database: "prod", collection: cid, byID: true}},
		{"POST", cp + "/functions/attach", `{"name":"f","function_id":"x","output_collection":"out"}`, want{action: "collection:create_attached_function", tenant: "acme", database: "prod", collection: cid, byID: true}},
		{"GET", cp + "/functions/summarize", "", want{action: "collection:get_collection", tenant: "acme", database: "prod", collection: cid, byID: true}},
		{"POST", cp + "/attached_functions/summarize/detach", "{}", want{action: "collection:remove_attached_function", tenant: "acme", database: "prod", collection: cid, byID: true}},
		{"POST", cp + "/attached_functions/summarize/add_input", `{"input_collection_id":"` + cid + `"}`, want{action: "collection:create_attached_function", tenant: "acme", database: "prod", collection: cid, byID: true}},
		{"POST", tp + "/attached_functions/" + cid + "/detach", "{}", want{action: "collection:remove_attached_function", tenant: "acme", database: "prod"}},
		{"POST", cp + "/conditional/commit", `{"operations":[]}`, want{action: "collection:get", tenant: "acme", database: "prod", collection: cid, byID: true}},

		// v1: public, authentication-only, identity
		{"GET", "/api/v1", "", want{public: true}},
		{"GET", "/api/v1/heartbeat", "", want{public: true}},
		{"GET", "/api/v1/version", "", want{public: true}},
		{"GET", "/api/v1/pre-flight-checks", "", want{}},
		{"GET", "/api/v1/auth/identity", "", want{identity: true}},
		{"POST", "/api/v1/reset", "", want{action: "system:reset"}},
		// v1: tenants and databases
		{"POST", "/api/v1/tenants", `{"name":"beta"}`, want{action: "tenant:create_tenant", tenant: "beta"}},
		{"GET", "/api/v1/tenants/acme", "", want{action: "tenant:get_tenant", tenant: "acme"}},
		{"POST", "/api/v1/databases", `{"name":"dev"}`, want{action: "db:create_database", tenant: "default_tenant", database: "dev"}},
		{"POST", "/api/v1/databases?tenant=acme", `{"name":"dev"}`, want{action: "db:create_database", tenant: "acme", database: "dev"}},
		{"GET", "/api/v1/databases/prod", "", want{action: "db:get_database", tenant: "default_tenant", database: "prod"}},
		{"GET", "/api/v1/databases/prod?tenant=acme", "", want{action: "db:get_database", tenant: "acme", database: "prod"}},
		// v1: collections, scoped by the query
		{"GET", "/api/v1/collections", "", want{action: "db:list_collections", tenant: "default_tenant", database: "default_database"}},
		{"GET", "/api/v1/collections?tenant=acme&database=prod&limit=2", "", want{action: "db:list_collections", tenant: "acme", database: "prod"}},
		{"GET", "/api/v1/collections?ten%61nt=acme&database=pr%6Fd", "", want{action: "db:list_collections", tenant: "acme", database: "prod"}},
		{"GET", "/api/v1/collections?tenant=a+b", "", want{action: "db:list_collections", tenant: "a b", database: "default_database"}},
		{"POST", "/api/v1/collections?tenant=acme&database=prod", `{"name":"docs"}`, want{action: "db:create_collection", tenant: "acme", database: "prod"}},
		{"POST", "/api/v1/collections?tenant=acme&database=prod", `{"name":"docs","get_or_create":true}`, want{action: "db:get_or_create_collection", tenant: "acme", database: "prod"}},
		{"GET", "/api/v1/count_collections?tenant=acme&database=prod", "", want{action: "db:count_collections", tenant: "acme", database: "prod"}},
		{"GET", "/api/v1/collections/docs?tenant=acme&database=prod", "", want{action: "collection:get_collection", tenant: "acme", database: "prod", collection: "docs"}},
		{"DELETE", "/api/v1/collections/docs", "", want{action: "collection:delete_collection", tenant: "default_tenant", database: "default_database", collection: "docs"}},
		// v1: collections by id, unscoped
		{"PUT", v1cp, `{"new_name":"x"}`, want{action: "collection:update_collection", collection: cid, unscoped: true}},
		{"POST", v1cp + "/add", "{}", want{action: "collection:add", collection: cid, unscoped: true}},
		{"POST", v1cp + "/update", "{}", want{action: "collection:update", collection: cid, unscoped: true}},
		{"POST", v1cp + "/upsert", "{}", want{action: "collection:upsert", collection: cid, unscoped: true}},
		{"POST", v1cp + "/get", "{}", want{action: "collection:get", collection: cid, unscoped: true}},
		{"POST", v1cp + "/delete", "{}", want{action: "collection:delete", collection: cid, unscoped: true}},
		{"POST", v1cp + "/query", "{}", want{action: "collection:query", collection: cid, unscoped: true}},
		{"GET", v1cp + "/count", "", want{action: "collection:count", collection: cid, unscoped: true}},
		{"GET", v1cp + "/count?tenant=acme&database=prod", "", want{action: "collection:count", collection: cid, unscoped: true}},

		// docs
		{"GET", "/openapi.json", "", want{}},
		{"GET", "/docs", "", want{}},
		{"GET", "/docs/", "", want{}},
		{"GET", "/docs/swagger-ui.css", "", want{}},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			rt, err := Classify(req(c.method, c.path, c.body))
			require.NoError(t, err)
			require.True(t, rt.Known, "route should be known")
			assert.NotEmpty(t, rt.Name)
			got := want{rt.Action, rt.Tenant, rt.Database, rt.Collection, rt.Public, rt.Identity, rt.Unscoped, rt.CollectionByID, rt.CRN}
			assert.Equal(t, c.want, got)
		})
	}
}

func TestClassifyUnknown(t *testing.T) {
	cases := []struct{ method, path string }{
		// wrong method (also on the routes axum answers 405)
		{"POST", "/api/v2/heartbeat"},
		{"GET", "/api/v2/reset"},
		{"GET", "/api/v2/tenants"},
		{"DELETE", "/api/v2/tenants/acme"},
		{"PUT", tp + "/collections"},
		{"GET", cp + "/add"},
		{"POST", cp + "/count"},
		{"POST", tp + "/collections/by-id/" + cid},
		{"OPTIONS", "/api/v2/heartbeat"},
		{"get", "/api/v2/tenants/acme"},
		{"POST", v1cp},
		{"POST", "/docs"},
		// not in the table
		{"GET", "/"},
		{"GET", "/api"},
		{"GET", "/api/v3/heartbeat"},
		{"GET", "/API/v2/heartbeat"},
		{"GET", "/api/V2/heartbeat"},
		{"GET", "/api/v2/Heartbeat"},
		{"GET", "/api/v2/tenants/acme/databases/prod/collections/docs/unknown_op"},
		{"GET", "/api/v2/collections/acme:prod"},
		{"GET", "/api/v2/collections/acme:prod:docs:x"},
		{"GET", "/api/v2/collections/:prod:docs"},
		{"GET", "/api/v2/collections/acme::docs"},
		{"POST", "/api/v1/raw_sql"},
		{"GET", "/api/v1/collections?tenant=a&tenant=b"},
		{"GET", "/api/v1/collections?tenant="},
		{"GET", "/api/v1/collections?database"},
		{"GET", "/api/v1/collections?tenant=acme;database=x"},
		{"GET", "/api/v1/collections?tenant=%zz"},
		{"GET", "/docs/a/"},
		{"GET", "/docs//x"},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			rt, err := Classify(req(c.method, c.path, ""))
			require.NoError(t, err)
			assert.False(t, rt.Known)
			assert.Equal(t, Route{}, rt)
		})
	}
}

// TestClassifyPathTricks feeds raw request targets, as a client can send
// them, through Go's own request parser.
func TestClassifyPathTricks(t *testing.T) {
	unknown := []string{
		"//api/v2/heartbeat",
		"/api//v2/heartbeat",
		"/api/v2/heartbeat/",
		"/api/v2/tenants/acme/",
		"/api/v2/heartbeat/../tenants/acme",
		"/api/v2/tenants/acme/databases/../databases/prod",
		"/api/v2/./heartbeat",
		"/api/v2/%2e%2e/v2/tenants/acme",
		"/api/v2/tenants/%2e%2e/databases",
		"/api/v2/tenants/%2E/databases",
		"/api/v2/tenants/acme%2Fdatabases%2Fprod",
		"/api/v2/tenants/acme%2fx/databases/prod",
		"/api/v2/tenants/acme%5Cx/databases/prod",
		"/api/v2%2Ftenants/acme",
		"/api/v2/%74enants/acme", // axum matches literals undecoded: a 404 upstream
		"/api/v2/heartbeat;x",
		"/api/v2/heartbeat%00",
		"/api/v2/heartbeat%3B",
		"/api/v2/tenants/acme/databases/prod/collections/docs%2Fadd",
		"/api/v1/collections/" + cid + "%2Fadd",
		"/" + strings.Repeat("a/", 5000),
		"/api/v2/" + strings.Repeat("x", 1<<16),
	}
	for _, target := range unknown {
		name := target
		if len(name) > 80 {
			name = name[:80]
		}
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest("GET", target, nil)
			rt, err := Classify(r)
			require.NoError(t, err)
			assert.False(t, rt.Known, "%+v", rt)
		})
	}

	// Parameters are decoded one segment at a time.
	scoped := []struct{ target, tenant, database string }{
		{"/api/v2/tenants/ac%6De/databases/pr%6Fd", "acme", "prod"},
		{"/api/v2/tenants/acme;x/databases/prod", "acme;x", "prod"},
		{"/api/v2/tenants/acme%00/databases/prod", "acme\x00", "prod"},
		{"/api/v2/tenants/acme/databases/prod%3Bx", "acme", "prod;x"},
		{"/api/v2/tenants/a%20b/databases/prod", "a b", "prod"},
	}
	for _, c := range scoped {
		t.Run(c.target, func(t *testing.T) {
			rt, err := Classify(httptest.NewRequest("GET", c.target, nil))
			require.NoError(t, err)
			require.True(t, rt.Known)
			assert.Equal(t, c.tenant, rt.Tenant)
			assert.Equal(t, c.database, rt.Database)
		})
	}

	// An absolute-form request target classifies by its path.
	rt, err := Classify(httptest.NewRequest("GET", "http://chroma.example/api/v2/tenants/acme", nil))
	require.NoError(t, err)
	assert.Equal(t, "acme", rt.Tenant)
	assert.Equal(t, ActionGetTenant, rt.Action)
}

// Static segments win over parameters, as in axum's router.
func TestClassifyStaticWins(t *testing.T) {
	rt, _ := Classify(req("GET", tp+"/collections/by-id/add", ""))
	assert.Equal(t, "v2 get_collection_by_id", rt.Name)
	assert.Equal(t, "add", rt.Collection)

	rt, _ = Classify(req("POST", tp+"/collections/by-id/add", ""))
	assert.False(t, rt.Known, "the path selects by-id, which has no POST")

	rt, _ = Classify(req("GET", tp+"/collections/by-id", ""))
	assert.Equal(t, "v2 get_collection", rt.Name)
	assert.Equal(t, "by-id", rt.Collection)

	// Chroma has no databases/by-id route: this lists the collections of
	// a database called "by-id".
	rt, _ = Classify(req("GET", "/api/v2/tenants/acme/databases/by-id/collections", ""))
	assert.Equal(t, "v2 list_collections", rt.Name)
	assert.Equal(t, ActionListCollections, rt.Action)
	assert.Equal(t, "by-id", rt.Database)
}

func TestClassifyBodyScope(t *testing.T) {
	cases := []struct {
		name, method, path, body string
		action, tenant, database string
		unscoped                 bool
		bad                      bool // ErrBadBody: the gateway cannot tell what the body asks
	}{
		{"tenant name", "POST", "/api/v2/tenants", `{"name":"beta"}`, ActionCreateTenant, "beta", "", false, false},
		{"escaped name", "POST", "/api/v2/tenants", `{"name":"b\u0065ta"}`, ActionCreateTenant, "beta", "", false, false},
		{"last name wins", "POST", "/api/v2/tenants", `{"name":"acme","name":"beta"}`, ActionCreateTenant, "beta", "", false, false},
		{"no name", "POST", "/api/v2/tenants", `{}`, ActionCreateTenant, "", "", true, false},
		{"empty name", "POST", "/api/v2/tenants", `{"name":""}`, ActionCreateTenant, "", "", true, true},
		{"number name", "POST", "/api/v2/tenants", `{"name":1}`, ActionCreateTenant, "", "", true, true},
		{"not JSON", "POST", "/api/v2/tenants", `name=beta`, ActionCreateTenant, "", "", true, true},
		{"array", "POST", "/api/v2/tenants", `[{"name":"beta"}]`, ActionCreateTenant, "", "", true, true},
		{"truncated", "POST", "/api/v2/tenants", `{"name":"beta"`, ActionCreateTenant, "", "", true, true},
		{"nested name ignored", "POST", "/api/v2/tenants", `{"x":{"name":"beta"}}`, ActionCreateTenant, "", "", true, false},
		{"Name is not name", "POST", "/api/v2/tenants", `{"Name":"beta"}`, ActionCreateTenant, "", "", true, false},
		{"empty body", "POST", "/api/v2/tenants", ``, ActionCreateTenant, "", "", true, true},
		{"database name", "POST", "/api/v2/tenants/acme/databases", `{"name":"dev"}`, ActionCreateDatabase, "acme", "dev", false, false},
		{"database no name", "POST", "/api/v2/tenants/acme/databases", `{}`, ActionCreateDatabase, "acme", "", true, false},
		{"v1 database no name", "POST", "/api/v1/databases?tenant=acme&database=prod", `{}`, ActionCreateDatabase, "acme", "", true, false},
		// get_or_create
		{"goc true", "POST", tp + "/collections", `{"name":"d","get_or_create":true}`, ActionGetOrCreateCollection, "acme", "prod", false, false},
		{"goc spaced", "POST", tp + "/collections", "{ \"get_or_create\" :\n true , \"name\":\"d\"}", ActionGetOrCreateCollection, "acme", "prod", false, false},
		{"goc false", "POST", tp + "/collections", `{"name":"d","get_or_create":false}`, ActionCreateCollection, "acme", "prod", false, false},
		{"goc absent", "POST", tp + "/collections", `{"name":"d"}`, ActionCreateCollection, "acme", "prod", false, false},
		{"goc null", "POST", tp + "/collections", `{"name":"d","get_or_create":null}`, ActionCreateCollection, "acme", "prod", false, false},
		{"goc last wins", "POST", tp + "/collections", `{"get_or_create":false,"get_or_create":true}`, ActionGetOrCreateCollection, "acme", "prod", false, false},
		{"goc last false", "POST", tp + "/collections", `{"get_or_create":true,"get_or_create":false}`, ActionCreateCollection, "acme", "prod", false, false},
		{"goc pydantic string", "POST", tp + "/collections", `{"get_or_create":"True"}`, ActionGetOrCreateCollection, "acme", "prod", false, false},
		{"goc pydantic int", "POST", tp + "/collections", `{"get_or_create":1}`, ActionGetOrCreateCollection, "acme", "prod", false, false},
		{"goc zero", "POST", tp + "/collections", `{"get_or_create":0}`, ActionCreateCollection, "acme", "prod", false, false},
		{"goc other case key", "POST", tp + "/collections", `{"GET_OR_CREATE":true}`, ActionCreateCollection, "acme", "prod", false, false},
		{"goc nested", "POST", tp + "/collections", `{"metadata":{"get_or_create":true}}`, ActionCreateCollection, "acme", "prod", false, false},
		{"goc broken JSON", "POST", tp + "/collections", `{"get_or_create":true`, ActionCreateCollection, "acme", "prod", false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rt, err := Classify(req(c.method, c.path, c.body))
			if c.bad {
				require.ErrorIs(t, err, ErrBadBody)
			} else {
				require.NoError(t, err)
			}
			require.True(t, rt.Known)
			assert.Equal(t, c.action, rt.Action)
			assert.Equal(t, c.tenant, rt.Tenant)
			assert.Equal(t, c.database, rt.Database)
			assert.Equal(t, c.unscoped, rt.Unscoped)
		})
	}
}

func TestClassifyRestoresBody(t *testing.T) {
	bodies := []string{
		`{"name":"docs","get_or_create":true,"metadata":{"k":"v"}}`,
		"{\"name\":\"d\xff\xfe\"}",   // invalid UTF-8 stays as sent
		"  {\"name\" : \"x\"}  \n\n", // whitespace kept
		strings.Repeat("x", MaxBodyBytes),
	}
	for i, body := range bodies {
		for _, path := range []string{"/api/v2/tenants", tp + "/collections", "/api/v1/collections", cp + "/add"} {
			r := req("POST", path, body)
			_, err := Classify(r)
			if err != nil {
				require.ErrorIs(t, err, ErrBadBody, "body %d %s", i, path)
			}
			got, err := io.ReadAll(r.Body)
			require.NoError(t, err)
			assert.True(t, bytes.Equal([]byte(body), got), "body %d on %s changed", i, path)
			require.NoError(t, r.Body.Close())
			if r.GetBody != nil {
				again, err := r.GetBody()
				require.NoError(t, err)
				b, _ := io.ReadAll(again)
				assert.Equal(t, body, string(b))
			}
		}
	}
}

// TestClassifyLargeBody (issue 20): a body over 1 MiB on a route whose
// decision is in it is read as it streams: what the decision needs is
// found wherever it is (get_or_create after 3 MiB of metadata), and the
// body is handed on unchanged. Only members the decision needs that are
// themselves over the bound (a 2 MiB name) are refused.
func TestClassifyLargeBody(t *testing.T) {
	pad := strings.Repeat("p", 3*MaxBodyBytes)
	body := `{"name":"docs","metadata":{"pad":"` + pad + `","name":"not this one"},"get_or_create":true}`
	r := req("POST", tp+"/collections", body)
	rt, err := Classify(r)
	require.NoError(t, err)
	assert.Equal(t, ActionGetOrCreateCollection, rt.Action)
	assert.Equal(t, "docs", rt.NewName, "a name inside metadata is not the collection's")
	got, _ := io.ReadAll(r.Body)
	assert.Equal(t, body, string(got), "the body is handed on unchanged")
	require.NoError(t, r.Body.Close())

	commit := `{"operations":[{"operation":"add","records":{"documents":["` + pad + `"]}},{"operation":"delete","ids":["a"]}]}`
	r = req("POST", cp+"/conditional/commit", commit)
	rt, err = Classify(r)
	require.NoError(t, err)
	assert.Equal(t, []string{ActionAdd, ActionDelete}, rt.Actions(), "every operation, after 3 MiB of records")
	got, _ = io.ReadAll(r.Body)
	assert.Equal(t, len(commit), len(got))

	r = req("POST", "/api/v2/tenants", `{"name":"`+pad+`"}`)
	rt, err = Classify(r)
	require.ErrorIs(t, err, ErrBodyTooLarge)
	assert.True(t, rt.NeedsBody, "the route is left incomplete: the caller must refuse it")
	assert.NotContains(t, err.Error(), "ppp", "the error does not echo the body")
	got, _ = io.ReadAll(r.Body)
	assert.Equal(t, `{"name":"`+pad+`"}`, string(got), "the body is restored even on error")

	// Big bodies on routes that need no body are not read at all.
	big := strings.Repeat("x", 3*MaxBodyBytes)
	r = req("POST", cp+"/add", big)
	_, err = Classify(r)
	require.NoError(t, err)
	got, _ = io.ReadAll(r.Body)
	assert.Equal(t, len(big), len(got))
}

func TestClassifyUnreadableBody(t *testing.T) {
	r := req("POST", "/api/v2/tenants", "")
	r.Body = io.NopCloser(io.MultiReader(strings.NewReader(`{"name":`), iotest.ErrReader(errors.New("connection reset"))))
	rt, err := Classify(r)
	require.Error(t, err)
	assert.True(t, rt.NeedsBody, "the route is left incomplete: the caller must refuse it")
	rest, _ := io.ReadAll(r.Body)
	assert.Equal(t, `{"name":`, string(rest))
}

// Go's request parser refuses undecodable escapes before a handler runs;
// the splitter refuses them too.
func TestSplitPathRefuses(t *testing.T) {
	for _, p := range []string{"", "/", "api/v2", "/api/%zz", "/api/v2/tenants/acme%", "/a//b", "//", "/a/%2e", "/a/%2F", "/a/..", "/a/./b"} {
		_, _, ok := splitPath(p)
		assert.False(t, ok, p)
	}
	segs, raws, ok := splitPath("/api/v2/ten%61nts/a%20b/")
	require.True(t, ok)
	assert.Equal(t, []string{"api", "v2", "tenants", "a b", ""}, segs)
	assert.Equal(t, []string{"api", "v2", "ten%61nts", "a%20b", ""}, raws)
}

func TestClassifyNil(t *testing.T) {
	rt, err := Classify(nil)
	require.NoError(t, err)
	assert.False(t, rt.Known)
}
