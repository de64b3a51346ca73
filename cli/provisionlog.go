package cli

// LogSetup is what Provision knows about the logs that could
// write a credential: which headers the handler accepts credentials in,
// and what the handler's server logs.
type LogSetup struct {
	XChromaToken   bool // tokens are accepted in X-Chroma-Token
	Authorization  bool // Basic or Bearer credentials are accepted
	AccessLog      bool // the server writes an access log
	LogCredentials bool // the server logs Authorization too (log_credentials)
}

// ProvisionLogWarnings are the warnings Provision logs about credentials
// that Caddy's logs would write in clear. Caddy logs each request's
// headers as they arrived, before any handler runs: in the access log,
// and in the error log of any request a handler fails (a 502 while Chroma
// is down). It hides Authorization unless log_credentials is on, and never
// X-Chroma-Token.
//
// A module cannot see the logging config (its encoders and filters) from
// Provision: Caddy does not expose it. So this warns whenever such a
// header can reach a log, and says how to check: `caddy chroma-auth check`
// reads the whole config and names the logs that lack the filter.
func ProvisionLogWarnings(s LogSetup) []string {
	var out []string
	if s.XChromaToken {
		where := "the error log of any request a later handler fails (such as a 502 while Chroma is down)"
		if s.AccessLog {
			where = "this server's access log and " + where
		}
		out = append(out, "X-Chroma-Token credentials are accepted and Caddy writes request headers as they arrived to "+where+
			": unless those logs filter it, tokens are written in clear. Give them "+FilterHint(ChromaTokenFilter)+
			" (in the site's log block, and in `log default` of the global options); `caddy chroma-auth check` names the logs that lack it")
	}
	if !s.XChromaToken && s.AccessLog {
		out = append(out, "this server writes an access log, and Caddy copies every request's headers into it as they arrived: any client may send X-Chroma-Token, whatever token_header says, and its value is written in clear. Give the access log "+
			FilterHint(ChromaTokenFilter)+"; `caddy chroma-auth check` names the logs that lack it")
	}
	if s.Authorization && s.LogCredentials {
		out = append(out, "log_credentials is on: Caddy's logs write the Authorization header, with Basic passwords and Bearer tokens, in clear. Turn it off, or give the logs "+
			FilterHint(AuthorizationFilter))
	}
	return out
}
