// Package authz holds the authorization logic of the chroma_auth gateway,
// free of Caddy: it classifies a request into the Chroma route it will reach
// upstream (Classify), checks that route against the caller's tenant and
// databases (CheckScope) and against Chroma's RBAC file (RBAC), and answers
// Chroma's identity endpoint (IdentityBody).
//
// # Route table
//
// The table follows the routes of Chroma's Rust frontend (axum) for the v2
// API, and of the Python FastAPI server of Chroma 0.4/0.5 for the v1 API.
// The action of each route is the string Chroma's own authorization layer
// checks (AuthzAction in rust/frontend/src/auth/mod.rs and
// chromadb/auth/__init__.py), so RBAC files written for Chroma keep working.
// Where the Rust source and the project notes disagree, the Rust source wins:
//
//   - GET /api/v2/collections/{crn} is "collection:get_collection_by_crn".
//   - GET .../collections/{c}/indexing_status is "collection:count".
//   - GET .../collections/{c}/functions/{name} is "collection:get_collection".
//
// Routes that are newer than the Rust source the table was checked against
// (fork_count, conditional get/commit, attached_functions/{name}/add_input,
// databases/by-id) take the action of the closest existing operation.
//
// # Path matching
//
// Classify reads the raw, escaped path (URL.EscapedPath, the bytes the
// proxy will send upstream), splits it on "/" and percent-decodes each
// segment on its own, as axum does. Literal segments must match byte for
// byte (axum matches literals on the undecoded path); parameters are
// decoded. Static segments win over parameters, as in axum's matchit
// router, and the method is checked only on the one route the path selects.
// Anything the upstream would not route the same way is not Known: empty
// segments ("//", a trailing "/"), "." and ".." segments (raw or encoded),
// undecodable escapes, parameters that decode to text holding "/" (a Python
// upstream decodes the path before routing), a wrong method. HEAD counts as
// GET (axum answers HEAD on GET routes).
//
// # Collections looked up by id
//
// Chroma 1.x before the fix of CVE-2026-45830/45832 (1.0.x among them)
// resolves the collection of the data routes (add, get, query, update,
// PUT collection, fork, count, …) by UUID alone and ignores the tenant and
// database of the path. CheckScope only sees the path, so for a scoped
// caller the gateway must also check the collection's owner: Owners keeps
// what the upstream said about each collection id (LearnJSON on list, get
// and create answers) and Check refuses an id that lives elsewhere.
package authz
