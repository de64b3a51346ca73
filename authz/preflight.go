package authz

import "net/http"

// IsPreflight reports whether r is a CORS preflight: OPTIONS with an
// Origin and an Access-Control-Request-Method, and no body. Browsers send
// it before a cross-origin request, never with credentials, and Chroma
// answers it from its CORS settings without running any operation, so the
// gateway lets it through unauthenticated. Nothing else passes as one: any
// other method, a missing header, or a body makes it an ordinary request.
func IsPreflight(r *http.Request) bool {
	if r.Method != http.MethodOptions {
		return false
	}
	if r.ContentLength != 0 || len(r.TransferEncoding) > 0 {
		return false
	}
	return len(r.Header.Values("Origin")) == 1 && r.Header.Get("Origin") != "" &&
		len(r.Header.Values("Access-Control-Request-Method")) == 1 && r.Header.Get("Access-Control-Request-Method") != ""
}
