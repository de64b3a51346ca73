package e2e

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// reqFn builds the bytes of one crafted request for a target: host is what
// the Host header (and an absolute-form target) names, name a collection
// name unique to the case and target, which must not come to exist.
type reqFn func(host, name string) []byte

// attack is one crafted request of the bypass suite.
type attack struct {
	name string
	gw   string // "A": basic + token; "B": users YAML scoping + RBAC
	req  reqFn
	// want is what the gateway must answer: a comma-separated status per
	// response read off the connection ("4xx" for any client error), a
	// "u" suffix when that response must come from Chroma through
	// reverse_proxy (and without it, it must not); alternatives separated
	// by "|"; "-" for no response at all.
	want string
	// ok marks a request that carries a valid credential for gateway A
	// (data of the default database may then come back). Gateway B's
	// other-tenant data must never come back, ok or not.
	ok bool
	// detect: the same bytes sent straight to Chroma must show a leak or a
	// creation, which proves the suite's checks see one when it happens.
	detect bool
}

// craft makes a request with a method, a path ("{host}" is replaced), an
// optional body ("{name}" is replaced, Content-Length set) and extra header
// lines, and closes the connection after it.
func craft(method, path, body string, extra ...string) reqFn {
	return func(host, name string) []byte {
		h := append([]string{"Host: " + host}, extra...)
		b := strings.ReplaceAll(body, "{name}", name)
		if b != "" {
			h = append(h, "Content-Type: application/json", "Content-Length: "+strconv.Itoa(len(b)))
		}
		h = append(h, "Connection: close")
		return rawReq(method+" "+strings.ReplaceAll(path, "{host}", host)+" HTTP/1.1", h, b)
	}
}

// craftLine makes a request from its whole request line and header lines, for
// the cases where Host, the version or the framing are the attack.
func craftLine(requestLine string, headers []string, body string) reqFn {
	return func(host, name string) []byte {
		h := make([]string, len(headers))
		for i, s := range headers {
			h[i] = strings.ReplaceAll(strings.ReplaceAll(s, "{host}", host), "{name}", name)
		}
		return rawReq(strings.ReplaceAll(requestLine, "{host}", host), h, strings.ReplaceAll(body, "{name}", name))
	}
}

// craftSeq sends several requests on one connection (pipelined or smuggled).
func craftSeq(parts ...reqFn) reqFn {
	return func(host, name string) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p(host, name)...)
		}
		return b
	}
}

const createBody = `{"name":"{name}"}`

// TestBypassAttacks is issue 5 point 1 against the real Chroma: crafted
// requests written byte for byte on raw connections to two protected
// gateways and, for comparison, to Chroma's own port. Through the
// gateways none may reach a protected route or data without a valid
// credential, a scoped user may never reach another tenant's data, and
// the gateway must answer a good request after each one. Chroma is asked
// directly, past the gateway, that nothing was created or changed.
func TestBypassAttacks(t *testing.T) {
	// ---- Chroma fixtures, made directly ----
	acme, globex := uniqueName("bpacme"), uniqueName("bpglobex")
	createTenantAndDatabases(t, acme, "prod", "dev")
	createTenantAndDatabases(t, globex, "main")
	deflt := chromaDirect(t)
	prod, dev, gmain := chromaDirectAt(t, acme, "prod"), chromaDirectAt(t, acme, "dev"), chromaDirectAt(t, globex, "main")
	oracles := map[string]*direct{"default": deflt, acme + "/prod": prod, acme + "/dev": dev, globex + "/main": gmain}

	secret, secretDoc := uniqueName("bp-secret"), uniqueName("secret-doc")
	secretID := deflt.createCollection(secret, map[string][]float32{secretDoc: {1, 0, 0}})
	t.Cleanup(func() { deflt.deleteCollection(secret) })
	theirs, theirsDoc := uniqueName("bp-globex"), uniqueName("globex-doc")
	theirsID := gmain.createCollection(theirs, map[string][]float32{theirsDoc: {0, 1, 0}})
	t.Cleanup(func() { gmain.deleteCollection(theirs) })
	ours, oursDoc := uniqueName("bp-acme"), uniqueName("acme-doc")
	oursID := prod.createCollection(ours, map[string][]float32{oursDoc: {0, 0, 1}})
	t.Cleanup(func() { prod.deleteCollection(ours) })

	// ---- gateway A: Basic (htpasswd) and a Bearer token, nothing scoped.
	// Both gateways run with failures_per_minute off: the suite sends
	// dozens of refused requests from one address, and with the default
	// limit (60 a minute) the later ones would get 429 before the handler
	// looked at them, hiding what it does with each. ----
	c := suite.creds
	gA := startGateway(t, "chroma_auth {\n\t\tbasic "+c.htpasswd+"\n\t\ttoken "+c.bearer+"\n\t\tfailures_per_minute off\n\t}")

	// ---- gateway B: users YAML (its tokens, in X-Chroma-Token, and Basic
	// users of the same entries), RBAC, headers up to Go's 1 MiB. The users
	// file alone carries the tokens: naming it as token_file too fails the
	// load ("a token must belong to one user"), though the README says the
	// same file can be both. ----
	dir := t.TempDir()
	adminTok, readerTok, globexTok := "bp-admin-"+randomHex(8), "bp-reader-"+randomHex(8), "bp-globex-"+randomHex(8)
	users, rbac, htB := filepath.Join(dir, "users.yaml"), filepath.Join(dir, "rbac.yaml"), filepath.Join(dir, "b.htpasswd")
	require.NoError(t, os.WriteFile(users, fmt.Appendf(nil, scopedUsers, acme, globex, adminTok, readerTok, globexTok), 0o600))
	require.NoError(t, os.WriteFile(rbac, []byte(scopedRBAC), 0o600))
	adminPass := "bp:" + randomHex(8)
	hash, err := bcrypt.GenerateFromPassword([]byte(adminPass), bcrypt.MinCost)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(htB, fmt.Appendf(nil, "admin@acme:%s\n", hash), 0o600))
	gB := startGatewayWith(t, "max_header_size 1MiB", "chroma_auth {\n\t\tbasic "+htB+"\n\t\tusers_file "+users+
		"\n\t\ttoken_header X-Chroma-Token\n\t\tauthz "+rbac+"\n\t\tfailures_per_minute off\n\t}")

	// ---- credentials as header lines ----
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	goodB64 := b64(c.user + ":" + c.password)
	basicGood := "Authorization: Basic " + goodB64
	basicBad := "Authorization: Basic " + b64(c.user+":"+c.password+"x")
	bearerGood := "Authorization: Bearer " + c.bearer
	xAdmin, xReader, xGlobex := "X-Chroma-Token: "+adminTok, "X-Chroma-Token: "+readerTok, "X-Chroma-Token: "+globexTok
	basicAdmin := "Authorization: Basic " + b64("admin@acme:"+adminPass)

	// ---- paths ----
	const ld = "tenants/default_tenant/databases/default_database/collections"
	const list = "/api/v2/" + ld
	gl := "/api/v2/tenants/" + globex + "/databases/main/collections"
	ap := "/api/v2/tenants/" + acme + "/databases/prod/collections"
	theirsPath := ap + "/" + theirsID
	oursPath := ap + "/" + oursID
	addBody := `{"ids":["{name}"],"embeddings":[[0,0,1]]}`
	smuggled := craft(http.MethodPost, list, createBody) // no credential
	longA, overA := strings.Repeat("A", 15000), strings.Repeat("A", 24000)
	longB, overB := strings.Repeat("A", 1040000), strings.Repeat("A", 1100000)
	manyHeaders := make([]string, 0, 10001)
	for i := range 10000 {
		manyHeaders = append(manyHeaders, fmt.Sprintf("X-Pad-%d: x", i))
	}

	attacks := []attack{
		// Path tricks on gateway A, no credential, aimed at the collection list.
		{name: "dot-dot after public path", gw: "A", req: craft("GET", "/api/v2/heartbeat/../"+ld, ""), want: "401"},
		{name: "%2e%2e", gw: "A", req: craft("GET", "/api/v2/heartbeat/%2e%2e/"+ld, ""), want: "401"},
		{name: "%2E%2E upper-case escape", gw: "A", req: craft("GET", "/api/v2/heartbeat/%2E%2E/"+ld, ""), want: "401"},
		{name: "double-encoded %252e%252e", gw: "A", req: craft("GET", "/api/v2/heartbeat/%252e%252e/"+ld, ""), want: "401"},
		{name: "%2f-encoded slashes", gw: "A", req: craft("GET", "/api/v2/heartbeat%2f..%2f"+ld, ""), want: "401"},
		{name: "double-encoded %252f", gw: "A", req: craft("GET", "/api/v2/heartbeat%252f..%252f"+ld, ""), want: "401"},
		{name: "whole path %2f-encoded", gw: "A", req: craft("GET", "/api/v2%2f"+strings.ReplaceAll(ld, "/", "%2f"), ""), want: "401"},
		{name: "overlong UTF-8 dots %c0%ae", gw: "A", req: craft("GET", "/api/v2/heartbeat/%c0%ae%c0%ae/"+ld, ""), want: "401"},
		{name: "/./ segment", gw: "A", req: craft("GET", "/api/v2/./"+ld, ""), want: "401"},
		{name: "leading //", gw: "A", req: craft("GET", "//api/v2/"+ld, ""), want: "401"},
		{name: "inner //", gw: "A", req: craft("GET", "/api/v2//"+ld, ""), want: "401"},
		{name: "trailing /", gw: "A", req: craft("GET", list+"/", ""), want: "401"},
		{name: "; suffix", gw: "A", req: craft("GET", list+";", ""), want: "401"},
		{name: "; in public path then ..", gw: "A", req: craft("GET", "/api/v2/heartbeat;/../"+ld, ""), want: "401"},
		{name: "%00 suffix", gw: "A", req: craft("GET", list+"%00", ""), want: "401"},
		{name: "%00 in public path then ..", gw: "A", req: craft("GET", "/api/v2/heartbeat%00/../"+ld, ""), want: "401"},
		{name: "public path + %00", gw: "A", req: craft("GET", "/api/v2/heartbeat%00", ""), want: "401"},
		{name: "public path + /", gw: "A", req: craft("GET", "/api/v2/heartbeat/", ""), want: "401"},
		{name: "mixed case /API/V2/TENANTS", gw: "A", req: craft("GET", "/API/V2/TENANTS/default_tenant/databases/default_database/collections", ""), want: "401"},
		{name: "mixed case public then ..", gw: "A", req: craft("GET", "/Api/v2/Heartbeat/../"+ld, ""), want: "401"},
		{name: "backslash dot-dot", gw: "A", req: craft("GET", `/api/v2/heartbeat\..\`+strings.ReplaceAll(ld, "/", `\`), ""), want: "401"},
		{name: "%5c backslash dot-dot", gw: "A", req: craft("GET", "/api/v2/heartbeat%5c..%5c"+ld, ""), want: "401"},
		{name: "query carrying ../", gw: "A", req: craft("GET", "/api/v2/heartbeat?/../../"+ld, ""), want: "200u"},
		{name: "absolute-form, public then ..", gw: "A", req: craft("GET", "http://{host}/api/v2/heartbeat/../"+ld, ""), want: "401"},
		{name: "absolute-form protected", detect: true, gw: "A", req: craft("GET", "http://{host}"+list, ""), want: "401"},
		{name: "absolute-form https //", gw: "A", req: craft("GET", "https://{host}//api/v2/"+ld, ""), want: "401"},
		{name: "absolute-form other authority", gw: "A", req: craft("GET", "http://chroma.internal:8000"+list, ""), want: "200"},
		// Methods.
		{name: "HEAD protected", gw: "A", req: craft("HEAD", list, ""), want: "401"},
		{name: "HEAD public", gw: "A", req: craft("HEAD", "/api/v2/heartbeat", ""), want: "200u"},
		{name: "lower-case method get", gw: "A", req: craft("get", list, ""), want: "401"},
		{name: "OPTIONS protected", gw: "A", req: craft("OPTIONS", list, ""), want: "401"},
		{name: "GET list + X-HTTP-Method-Override: POST (create)", detect: true, gw: "A", req: craft("GET", list, createBody, "X-HTTP-Method-Override: POST"), want: "401"},
		{name: "GET list + X-HTTP-Method: POST (create)", gw: "A", req: craft("GET", list, createBody, "X-HTTP-Method: POST"), want: "401"},
		{name: "GET list + X-Method-Override: POST (create)", gw: "A", req: craft("GET", list, createBody, "X-Method-Override: POST"), want: "401"},
		{name: "GET heartbeat + X-HTTP-Method-Override: POST (create)", gw: "A", req: craft("GET", "/api/v2/heartbeat", createBody, "X-HTTP-Method-Override: POST"), want: "200u"},
		{name: "POST heartbeat + X-HTTP-Method-Override: GET", gw: "A", req: craft("POST", "/api/v2/heartbeat", createBody, "X-HTTP-Method-Override: GET"), want: "401"},
		{name: "POST create + X-HTTP-Method-Override: GET", gw: "A", req: craft("POST", list, createBody, "X-HTTP-Method-Override: GET", "X-HTTP-Method: GET", "X-Method-Override: GET"), want: "401"},
		// Credentials.
		{name: "create, no credential (control)", detect: true, gw: "A", req: craft("POST", list, createBody), want: "401"},
		{name: "create, wrong password (control)", gw: "A", req: craft("POST", list, createBody, basicBad), want: "401"},
		{name: "two Authorization: good + bad", gw: "A", req: craft("POST", list, createBody, basicGood, basicBad), want: "401"},
		{name: "two Authorization: bad + good", gw: "A", req: craft("POST", list, createBody, basicBad, basicGood), want: "401"},
		{name: "two Authorization: good + good", gw: "A", req: craft("POST", list, createBody, basicGood, basicGood), want: "401"},
		{name: "two Authorization: Basic good + Bearer good", gw: "A", req: craft("POST", list, createBody, basicGood, bearerGood), want: "401"},
		{name: "one Authorization, comma-joined good, good", gw: "A", req: craft("POST", list, createBody, "Authorization: Basic "+goodB64+", Bearer "+c.bearer), want: "401"},
		{name: "Authorization bad + X-Chroma-Token good token", gw: "A", req: craft("POST", list, createBody, basicBad, "X-Chroma-Token: "+c.bearer), want: "401"},
		{name: "X-Chroma-Token where Authorization is configured", gw: "A", req: craft("POST", list, createBody, "X-Chroma-Token: "+c.bearer), want: "401"},
		{name: "Bearer good + token with trailing word", gw: "A", req: craft("POST", list, createBody, bearerGood+" x"), want: "401"},
		{name: "Basic, invalid base64", gw: "A", req: craft("POST", list, createBody, "Authorization: Basic !!!not-base64!!!"), want: "401"},
		{name: "Basic, base64 with a space inside", gw: "A", req: craft("POST", list, createBody, "Authorization: Basic "+goodB64[:8]+" "+goodB64[8:]), want: "401"},
		{name: "Basic, base64 with extra padding", gw: "A", req: craft("POST", list, createBody, "Authorization: Basic "+goodB64+"=="), want: "401"},
		{name: "Basic, base64 of user only", gw: "A", req: craft("POST", list, createBody, "Authorization: Basic "+b64(c.user)), want: "401"},
		{name: "Basic, good + NUL inside base64", gw: "A", req: craft("POST", list, createBody, "Authorization: Basic "+b64(c.user+":"+c.password+"\x00")), want: "401"},
		{name: "Basic, non-ASCII decoded user", gw: "A", req: craft("POST", list, createBody, "Authorization: Basic "+b64("\xffalice\x80:"+c.password)), want: "401"},
		{name: "Basic, raw non-ASCII bytes", gw: "A", req: craft("POST", list, createBody, "Authorization: Basic \xff\xfe\x80\xc3\xa9"), want: "401"},
		{name: "Bearer good + raw 0xff", gw: "A", req: craft("POST", list, createBody, bearerGood+"\xff"), want: "401"},
		{name: "raw NUL in Authorization", gw: "A", req: craft("POST", list, createBody, "Authorization: Basic "+goodB64[:4]+"\x00"+goodB64[4:]), want: "400"},
		{name: "space before colon in header name", gw: "A", req: craft("POST", list, createBody, "Authorization : Basic "+goodB64), want: "400"},
		// Go joins an obs-folded line to the one before (RFC 9112 allows
		// that or a 400): the credential is then the good one, so it passes.
		{name: "obs-fold continuation of good Basic", gw: "A", req: craft("GET", list, "", "Authorization: Basic", " "+goodB64), want: "200u|400", ok: true},
		{name: "Authorization: Basic with nothing after", gw: "A", req: craft("POST", list, createBody, "Authorization: Basic"), want: "401"},
		{name: "Authorization: Bearer with nothing after", gw: "A", req: craft("POST", list, createBody, "Authorization: Bearer "), want: "401"},
		{name: "empty Authorization", gw: "A", req: craft("POST", list, createBody, "Authorization:"), want: "401"},
		{name: "protected path 12 KB long, no credential", gw: "A", req: craft("GET", list+"/"+strings.Repeat("x/", 6000), ""), want: "401"},
		{name: "Basic 15 KB (under the 16 KB default)", gw: "A", req: craft("POST", list, createBody, "Authorization: Basic "+longA), want: "401"},
		{name: "Basic 24 KB (over the 16 KB default)", gw: "A", req: craft("POST", list, createBody, "Authorization: Basic "+overA), want: "431"},
		{name: "lower-case scheme 'basic' with good credentials", gw: "A", req: craft("GET", list, "", "Authorization: basic "+goodB64), want: "200u", ok: true},
		{name: "Bearer good + junk X-Chroma-Token (not a credential here)", gw: "A", req: craft("GET", list, "", bearerGood, "X-Chroma-Token: junk"), want: "200u", ok: true},
		// Smuggling and pipelining (the smuggled request creates, no credential).
		{name: "CL.TE: GET heartbeat, CL + chunked, smuggled create", detect: true, gw: "A", req: func(host, name string) []byte {
			inner := string(smuggled(host, name))
			body := "0\r\n\r\n" + inner
			return rawReq("GET /api/v2/heartbeat HTTP/1.1", []string{"Host: " + host,
				"Content-Length: " + strconv.Itoa(len(body)), "Transfer-Encoding: chunked"}, body)
		}, want: "200u,401|400"},
		// Go reads the chunked body and Caddy forwards the GET with it;
		// Chroma may answer before reading it and close, which Caddy then
		// reports as 502: either way the create inside is only body bytes.
		{name: "TE.CL: chunk holds a create, CL 4", gw: "A", req: func(host, name string) []byte {
			inner := string(smuggled(host, name))
			return rawReq("GET /api/v2/heartbeat HTTP/1.1", []string{"Host: " + host,
				"Content-Length: 4", "Transfer-Encoding: chunked"}, chunked(inner))
		}, want: "200u|502|400"},
		{name: "Transfer-Encoding twice + CL", gw: "A", req: func(host, name string) []byte {
			body := "0\r\n\r\n" + string(smuggled(host, name))
			return rawReq("GET /api/v2/heartbeat HTTP/1.1", []string{"Host: " + host, "Transfer-Encoding: chunked",
				"Transfer-Encoding: chunked", "Content-Length: " + strconv.Itoa(len(body))}, body)
		}, want: "400|501"},
		{name: "Transfer-Encoding: xchunked + CL", gw: "A", req: func(host, name string) []byte {
			body := "0\r\n\r\n" + string(smuggled(host, name))
			return rawReq("GET /api/v2/heartbeat HTTP/1.1", []string{"Host: " + host, "Transfer-Encoding: xchunked",
				"Content-Length: " + strconv.Itoa(len(body))}, body)
		}, want: "400|501"},
		{name: "Transfer-Encoding: chunked, identity", gw: "A", req: func(host, name string) []byte {
			body := "0\r\n\r\n" + string(smuggled(host, name))
			return rawReq("GET /api/v2/heartbeat HTTP/1.1", []string{"Host: " + host, "Transfer-Encoding: chunked, identity",
				"Content-Length: " + strconv.Itoa(len(body))}, body)
		}, want: "400|501"},
		{name: "'Transfer-Encoding :' with a space", gw: "A", req: func(host, name string) []byte {
			body := "0\r\n\r\n" + string(smuggled(host, name))
			return rawReq("GET /api/v2/heartbeat HTTP/1.1", []string{"Host: " + host, "Transfer-Encoding : chunked",
				"Content-Length: " + strconv.Itoa(len(body))}, body)
		}, want: "400"},
		{name: "two different Content-Length", gw: "A", req: func(host, name string) []byte {
			inner := string(smuggled(host, name))
			return rawReq("POST /api/v2/heartbeat HTTP/1.1", []string{"Host: " + host, "Content-Length: 0",
				"Content-Length: " + strconv.Itoa(len(inner))}, inner)
		}, want: "400"},
		{name: "pipelined: heartbeat then create", detect: true, gw: "A", req: craftSeq(
			craftLine("GET /api/v2/heartbeat HTTP/1.1", []string{"Host: {host}"}, ""), smuggled), want: "200u,401"},
		{name: "pipelined: authenticated list then create", gw: "A", ok: true, req: craftSeq(
			craftLine("GET "+list+" HTTP/1.1", []string{"Host: {host}", basicGood}, ""), smuggled), want: "200u,401"},
		{name: "CL.TE behind an authenticated GET", gw: "A", ok: true, req: func(host, name string) []byte {
			body := "0\r\n\r\n" + string(smuggled(host, name))
			return rawReq("GET /api/v2/tenants/default_tenant HTTP/1.1", []string{"Host: " + host, basicGood,
				"Content-Length: " + strconv.Itoa(len(body)), "Transfer-Encoding: chunked"}, body)
		}, want: "200u,401|400"},
		// Versions and Host.
		{name: "HTTP/1.0 without Host, protected", gw: "A", req: craftLine("GET "+list+" HTTP/1.0", nil, ""), want: "200"},
		{name: "HTTP/1.0 without Host, create", gw: "A", req: func(_, name string) []byte {
			body := strings.ReplaceAll(createBody, "{name}", name)
			return rawReq("POST "+list+" HTTP/1.0", []string{"Content-Type: application/json", "Content-Length: " + strconv.Itoa(len(body))}, body)
		}, want: "200"},
		{name: "HTTP/1.0 with Host, no credential", gw: "A", req: craftLine("GET "+list+" HTTP/1.0", []string{"Host: {host}"}, ""), want: "401"},
		{name: "HTTP/1.1 without Host", gw: "A", req: craftLine("GET "+list+" HTTP/1.1", []string{"Connection: close"}, ""), want: "400"},
		{name: "two Host headers", gw: "A", req: craftLine("GET "+list+" HTTP/1.1", []string{"Host: {host}", "Host: {host}", "Connection: close"}, ""), want: "400"},
		{name: "HTTP/0.9-style request line", gw: "A", req: craftLine("GET "+list, nil, ""), want: "400|-"},
		{name: "HTTP/2.0 in an HTTP/1 request line", gw: "A", req: craftLine("GET "+list+" HTTP/2.0", []string{"Host: {host}"}, ""), want: "505|400"},

		// Gateway B: a user of acme/prod (admin or reader) reaching for globex.
		{name: "B: other tenant's list (control)", detect: true, gw: "B", req: craft("GET", gl, "", xAdmin), want: "403"},
		{name: "B: own list (control)", gw: "B", req: craft("GET", ap, "", xAdmin), want: "200u"},
		{name: "B: own path then ../ to other tenant", gw: "B", req: craft("GET", "/api/v2/tenants/"+acme+"/../"+globex+"/databases/main/collections", "", xAdmin), want: "403"},
		{name: "B: %2e%2e to other tenant", gw: "B", req: craft("GET", "/api/v2/tenants/"+acme+"/%2e%2e/"+globex+"/databases/main/collections", "", xAdmin), want: "403"},
		{name: "B: %2f..%2f to other tenant", gw: "B", req: craft("GET", "/api/v2/tenants/"+acme+"%2f..%2f"+globex+"/databases/main/collections", "", xAdmin), want: "403"},
		{name: "B: double-encoded %252f", gw: "B", req: craft("GET", "/api/v2/tenants/"+acme+"%252f..%252f"+globex+"/databases/main/collections", "", xAdmin), want: "403"},
		{name: "B: leading //", gw: "B", req: craft("GET", "/"+gl, "", xAdmin), want: "403"},
		{name: "B: tenants//other", gw: "B", req: craft("GET", strings.Replace(gl, "tenants/", "tenants//", 1), "", xAdmin), want: "403"},
		{name: "B: trailing /", gw: "B", req: craft("GET", gl+"/", "", xAdmin), want: "403"},
		{name: "B: other;/ tenant", gw: "B", req: craft("GET", strings.Replace(gl, globex, globex+";", 1), "", xAdmin), want: "403"},
		{name: "B: own;/../other", gw: "B", req: craft("GET", "/api/v2/tenants/"+acme+";/../"+globex+"/databases/main/collections", "", xAdmin), want: "403"},
		{name: "B: other%00", gw: "B", req: craft("GET", strings.Replace(gl, globex, globex+"%00", 1), "", xAdmin), want: "403"},
		{name: "B: mixed case /API/V2", gw: "B", req: craft("GET", strings.Replace(gl, "/api/v2", "/API/V2", 1), "", xAdmin), want: "403"},
		{name: "B: absolute-form other tenant", gw: "B", req: craft("GET", "http://{host}"+gl, "", xAdmin), want: "403"},
		{name: "B: HEAD other tenant", gw: "B", req: craft("HEAD", gl, "", xAdmin), want: "403"},
		{name: "B: create in other tenant", detect: true, gw: "B", req: craft("POST", gl, createBody, xAdmin), want: "403"},
		{name: "B: create in own tenant's other database", gw: "B", req: craft("POST", "/api/v2/tenants/"+acme+"/databases/dev/collections", createBody, xAdmin), want: "403"},
		{name: "B: v1 list with tenant query", gw: "B", req: craft("GET", "/api/v1/collections?tenant="+globex+"&database=main", "", xAdmin), want: "403"},
		{name: "B: CRN of other tenant", gw: "B", req: craft("GET", "/api/v2/collections/"+globex+":main:"+theirs, "", xAdmin), want: "403"},
		{name: "B: CRN with %3A", gw: "B", req: craft("GET", "/api/v2/collections/"+globex+"%3Amain%3A"+theirs, "", xAdmin), want: "403"},
		{name: "B: default tenant/db (singleton rewrite to own)", gw: "B", req: craft("GET", list, "", xAdmin), want: "200u"},
		{name: "B: default tenant, other database", gw: "B", req: craft("GET", "/api/v2/tenants/default_tenant/databases/main/collections", "", xAdmin), want: "403"},
		{name: "B: default%5Ftenant (escaped, not rewritten)", gw: "B", req: craft("GET", "/api/v2/tenants/default%5Ftenant/databases/default_database/collections", "", xAdmin), want: "403"},
		{name: "B: other's collection id via own path: get", detect: true, gw: "B", req: craft("POST", theirsPath+"/get", "{}", xAdmin), want: "403"},
		{name: "B: … upper-case id", detect: true, gw: "B", req: craft("POST", ap+"/"+strings.ToUpper(theirsID)+"/get", "{}", xAdmin), want: "403"},
		{name: "B: … braced id", gw: "B", req: craft("POST", ap+"/%7B"+theirsID+"%7D/get", "{}", xAdmin), want: "403"},
		{name: "B: … urn:uuid: id", gw: "B", req: craft("POST", ap+"/urn:uuid:"+theirsID+"/get", "{}", xAdmin), want: "403"},
		{name: "B: … 32-hex id", gw: "B", req: craft("POST", ap+"/"+strings.ReplaceAll(theirsID, "-", "")+"/get", "{}", xAdmin), want: "403"},
		{name: "B: … %2D-escaped dashes", gw: "B", req: craft("POST", ap+"/"+strings.ReplaceAll(theirsID, "-", "%2D")+"/get", "{}", xAdmin), want: "403"},
		{name: "B: … count", gw: "B", req: craft("GET", theirsPath+"/count", "", xAdmin), want: "403"},
		{name: "B: … add", gw: "B", req: craft("POST", theirsPath+"/add", addBody, xAdmin), want: "403"},
		{name: "B: … by-id route", gw: "B", req: craft("GET", ap+"/by-id/"+theirsID, "", xAdmin), want: "403|404u"},
		{name: "B: … update (rename) via own path", detect: true, gw: "B", req: craft("PUT", theirsPath, `{"new_name":"{name}"}`, xAdmin), want: "403"},
		{name: "B: … id as a name: GET", gw: "B", req: craft("GET", theirsPath, "", xAdmin), want: "403|404u"},
		{name: "B: … id as a name: DELETE", gw: "B", req: craft("DELETE", theirsPath, "", xAdmin), want: "403|404u"},
		{name: "B: other's collection by name via own path: DELETE", gw: "B", req: craft("DELETE", ap+"/"+theirs, "", xAdmin), want: "403|404u"},
		{name: "B: other's id via the default path (rewritten to own)", gw: "B", req: craft("POST", "/api/v2/"+ld+"/"+theirsID+"/get", "{}", xAdmin), want: "403"},
		{name: "B: default db's id via the default path (rewritten to own)", detect: true, gw: "B", req: craft("POST", "/api/v2/"+ld+"/"+secretID+"/get", "{}", xAdmin), want: "403"},
		{name: "B: default db's id via the default path: add", gw: "B", req: craft("POST", "/api/v2/"+ld+"/"+secretID+"/add", addBody, xAdmin), want: "403"},
		{name: "B: … get with own Basic", gw: "B", req: craft("POST", theirsPath+"/get", "{}", basicAdmin), want: "403"},
		// RBAC: a reader may count and read, not add.
		{name: "B: reader add (control)", gw: "B", req: craft("POST", oursPath+"/add", addBody, xReader), want: "403"},
		{name: "B: reader add/", gw: "B", req: craft("POST", oursPath+"/add/", addBody, xReader), want: "403"},
		{name: "B: reader add;", gw: "B", req: craft("POST", oursPath+"/add;", addBody, xReader), want: "403"},
		{name: "B: reader ADD", gw: "B", req: craft("POST", oursPath+"/ADD", addBody, xReader), want: "403"},
		{name: "B: reader %61dd", gw: "B", req: craft("POST", oursPath+"/%61dd", addBody, xReader), want: "403"},
		{name: "B: reader add%00", gw: "B", req: craft("POST", oursPath+"/add%00", addBody, xReader), want: "403"},
		{name: "B: reader get/../add", gw: "B", req: craft("POST", oursPath+"/get/../add", addBody, xReader), want: "403"},
		{name: "B: reader //add", gw: "B", req: craft("POST", oursPath+"//add", addBody, xReader), want: "403"},
		{name: "B: reader add + X-HTTP-Method-Override: GET", gw: "B", req: craft("POST", oursPath+"/add", addBody, xReader, "X-HTTP-Method-Override: GET"), want: "403"},
		{name: "B: reader GET count + overrides to POST, add body", gw: "B", req: craft("GET", oursPath+"/count", addBody, xReader,
			"X-HTTP-Method-Override: POST", "X-HTTP-Method: POST", "X-Method-Override: POST"), want: "200u"},
		{name: "B: reader HEAD count", gw: "B", req: craft("HEAD", oursPath+"/count", "", xReader), want: "200u"},
		// Credentials on B.
		{name: "B: Basic admin + X-Chroma-Token reader", gw: "B", req: craft("POST", oursPath+"/add", addBody, basicAdmin, xReader), want: "401"},
		{name: "B: Basic admin + X-Chroma-Token admin (both good, same user)", gw: "B", req: craft("GET", ap, "", basicAdmin, xAdmin), want: "401"},
		{name: "B: path 100 KB long under own database", gw: "B", req: craft("GET", oursPath+"/"+strings.Repeat("x/", 50000)+"get", "", xAdmin), want: "403"},
		{name: "B: two X-Chroma-Token (own + other tenant's)", detect: true, gw: "B", req: craft("GET", gl, "", xAdmin, xGlobex), want: "401"},
		{name: "B: X-Chroma-Token own + Bearer other tenant's", gw: "B", req: craft("GET", gl, "", xAdmin, "Authorization: Bearer "+globexTok), want: "403"},
		{name: "B: Bearer where X-Chroma-Token is configured", gw: "B", req: craft("GET", gl, "", "Authorization: Bearer "+globexTok), want: "401"},
		{name: "B: X_Chroma_Token (underscores)", gw: "B", req: craft("GET", gl, "", "X_Chroma_Token: "+globexTok), want: "401"},
		{name: "B: comma-joined tokens", gw: "B", req: craft("GET", gl, "", "X-Chroma-Token: "+globexTok+", "+adminTok), want: "401"},
		{name: "B: non-ASCII token", gw: "B", req: craft("GET", gl, "", "X-Chroma-Token: "+globexTok+"\xff"), want: "401"},
		{name: "B: X-Chroma-Token ~1 MB", gw: "B", req: craft("GET", gl, "", "X-Chroma-Token: "+longB), want: "401"},
		{name: "B: Basic ~1 MB", gw: "B", req: craft("GET", gl, "", "Authorization: Basic "+longB), want: "401"},
		{name: "B: header over 1 MiB", gw: "B", req: craft("GET", gl, "", "X-Chroma-Token: "+overB), want: "431"},
		{name: "B: 10000 headers + own token, other tenant", gw: "B", req: craft("GET", gl, "", append([]string{xAdmin}, manyHeaders...)...), want: "403"},
		{name: "B: CL.TE behind own tenant GET, smuggled create in other", gw: "B", req: func(host, name string) []byte {
			body := "0\r\n\r\n" + string(craft("POST", gl, createBody, xAdmin)(host, name))
			return rawReq("GET /api/v2/tenants/"+acme+" HTTP/1.1", []string{"Host: " + host, xAdmin,
				"Content-Length: " + strconv.Itoa(len(body)), "Transfer-Encoding: chunked"}, body)
		}, want: "200u,403|400"},
		{name: "B: pipelined own list then other tenant's", gw: "B", req: craftSeq(
			craftLine("GET "+ap+" HTTP/1.1", []string{"Host: {host}", xAdmin}, ""), craft("GET", gl, "", xAdmin)), want: "200u,403"},
		{name: "B: HTTP/1.0 without Host, other tenant", gw: "B", req: craftLine("GET "+gl+" HTTP/1.0", []string{xAdmin}, ""), want: "200"},
	}

	targets := map[string]rawTarget{"A": gatewayTarget(t, gA), "B": gatewayTarget(t, gB)}
	gateways := map[string]*gateway{"A": gA, "B": gB}
	// A good request per gateway: the gateway must still answer it after
	// every attack.
	goodCheck := map[string]func() error{
		"A": goodRequest(t, gA, list, basicGood),
		"B": goodRequest(t, gB, ap, xAdmin),
	}
	secrets := map[string][]string{
		"A": {secret, secretID, secretDoc},
		"B": {secret, secretID, secretDoc, theirs, theirsID, theirsDoc},
	}
	where := func(name string) []string {
		var found []string
		for label, o := range oracles {
			if o.collectionID(name) != "" {
				found = append(found, label)
			}
		}
		return found
	}
	// leaked lists the secrets an answer holds that the request did not
	// itself name (Chroma's 404 repeats the name or id it was asked for).
	leaked := func(gw string, req []byte, res rawResult) []string {
		// What the request named, also with its escapes decoded: a 403 may
		// repeat the id the request spelled with %2D for its dashes.
		named := string(req)
		if dec, err := url.PathUnescape(named); err == nil {
			named += "\n" + dec
		}
		var out []string
		for _, resp := range res.responses {
			for _, s := range secrets[gw] {
				if strings.Contains(string(resp.body), s) && !strings.Contains(named, s) {
					out = append(out, s)
				}
			}
		}
		return out
	}

	type row struct{ name, gw, before, after string }
	rows := make([]row, len(attacks))
	afterNames := make([]string, len(attacks))

	// After: through the gateways.
	for i, a := range attacks {
		name := fmt.Sprintf("bp%03d-a-%s", i, randomHex(3))
		afterNames[i] = name
		req := a.req(targets[a.gw].host, name)
		method := methodOf(req)
		res := sendRaw(t, targets[a.gw], req, method)
		after := res.statuses()
		ctx := fmt.Sprintf("#%d %s [%s]: got %s (end %s)", i, a.name, a.gw, after, res.end)
		assert.True(t, matchWant(a.want, res), "%s; want %s", ctx, a.want)
		for j, resp := range res.responses {
			if resp.upstream || (j == 0 && method == http.MethodHead) {
				continue // Chroma's own answer, or a HEAD answer (no body)
			}
			switch resp.status {
			case http.StatusUnauthorized:
				assert.JSONEq(t, chromaUnauthorized, string(resp.body), ctx)
			case http.StatusForbidden:
				assert.Contains(t, string(resp.body), `"error":"AuthorizationError"`, ctx)
			}
		}
		if a.gw == "B" || !a.ok {
			if l := leaked(a.gw, req, res); len(l) > 0 {
				assert.Fail(t, "data leaked", "%s: the answer holds %v", ctx, l)
				after += " LEAK"
			}
		}
		if w := where(name); len(w) > 0 {
			assert.Fail(t, "collection created", "%s: %s exists in %v", ctx, name, w)
			after += " CREATED in " + strings.Join(w, ",")
		}
		dead, werr := gateways[a.gw].proc.exited()
		require.False(t, dead, "%s: the gateway exited (%v)", ctx, werr)
		require.NoError(t, goodCheck[a.gw](), "%s: the gateway no longer answers a good request", ctx)
		rows[i] = row{name: a.name, gw: a.gw, after: after}
	}

	// Nothing came to exist later either (a request smuggled onto an
	// upstream connection would run after its case was checked).
	for i, name := range afterNames {
		assert.Empty(t, where(name), "#%d %s: %s exists", i, attacks[i].name, name)
	}
	// Nothing written anywhere: every fixture holds just its own document.
	assert.Equal(t, []string{secretDoc}, deflt.ids(secretID), "default database fixture unchanged")
	assert.Equal(t, []string{theirsDoc}, gmain.ids(theirsID), "other tenant's fixture unchanged")
	assert.Equal(t, []string{oursDoc}, prod.ids(oursID), "own fixture unchanged (the reader added nothing)")
	assert.Equal(t, theirsID, gmain.collectionID(theirs), "other tenant's collection neither renamed nor deleted")
	assert.Equal(t, secretID, deflt.collectionID(secret), "default database's collection still there")

	// Before: the same bytes to Chroma's own port, to show what each attack
	// would do there. Chroma has no auth: creates succeed and data comes
	// back. The fixtures may change now; the checks above are done.
	chroma := chromaTarget()
	for i, a := range attacks {
		name := fmt.Sprintf("bp%03d-b-%s", i, randomHex(3))
		req := a.req(chroma.host, name)
		res := sendRaw(t, chroma, req, methodOf(req))
		before := res.statuses()
		if l := leaked(a.gw, req, res); len(l) > 0 {
			before += " data"
		}
		if w := where(name); len(w) > 0 {
			before += " CREATED"
			for _, label := range w {
				o := oracles[label]
				switch id := o.collectionID(name); id {
				case theirsID, secretID, oursID:
					// A fixture renamed through another tenant's path:
					// give it its name back for the cases after this one.
					fixture := map[string]string{theirsID: theirs, secretID: secret, oursID: ours}[id]
					require.Equal(t, http.StatusOK, o.do(http.MethodPut, "/collections/"+id, map[string]any{"new_name": fixture}, nil))
					before += " (renamed " + fixture + ")"
				default:
					o.deleteCollection(name)
				}
			}
		}
		rows[i].before = before
		if a.detect {
			assert.True(t, strings.Contains(before, "data") || strings.Contains(before, "CREATED"),
				"#%d %s: straight to Chroma this must leak or create (got %s), or the checks cannot see a bypass", i, a.name, before)
		}
	}

	// No panic was recovered inside either gateway.
	for label, g := range gateways {
		log, err := os.ReadFile(g.proc.logPath)
		require.NoError(t, err)
		assert.NotContains(t, strings.ToLower(string(log)), "panic", "gateway %s log", label)
	}

	var table strings.Builder
	table.WriteString("bypass attacks (A: basic + token; B: users YAML scoping + RBAC, X-Chroma-Token):\n")
	table.WriteString("| # | gw | attack | before (raw Chroma) | after (gateway) |\n|---|---|---|---|---|\n")
	for i, rw := range rows {
		fmt.Fprintf(&table, "| %d | %s | %s | %s | %s |\n", i, rw.gw, strings.ReplaceAll(rw.name, "|", "\\|"), rw.before, rw.after)
	}
	t.Log(table.String())
}

// goodRequest returns a check that a protected path answers 200 through g
// with a valid credential header.
func goodRequest(t *testing.T, g *gateway, path, header string) func() error {
	t.Helper()
	client, err := trustingHTTPClient(g.caRoot)
	require.NoError(t, err)
	name, value, _ := strings.Cut(header, ": ")
	return func() error {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, g.url+path, nil)
		if err != nil {
			return err
		}
		req.Header.Set(name, value)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		return nil
	}
}

// methodOf is the method of a raw request's first line.
func methodOf(req []byte) string {
	m, _, _ := strings.Cut(string(req[:min(len(req), 16)]), " ")
	return strings.ToUpper(m)
}

// matchWant checks the answers against an attack's want (see attack).
func matchWant(want string, res rawResult) bool {
	for _, alt := range strings.Split(want, "|") {
		if alt == "-" {
			if len(res.responses) == 0 {
				return true
			}
			continue
		}
		elems := strings.Split(alt, ",")
		if len(elems) != len(res.responses) {
			continue
		}
		ok := true
		for i, e := range elems {
			resp := res.responses[i]
			up := strings.HasSuffix(e, "u")
			code := strings.TrimSuffix(e, "u")
			switch {
			case resp.upstream != up:
				ok = false
			case code == "4xx":
				ok = resp.status >= 400 && resp.status < 500
			default:
				ok = strconv.Itoa(resp.status) == code
			}
			if !ok {
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
