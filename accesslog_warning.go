package chromaauth

import (
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/cli"
)

// credentialLogSetup is what Provision knows about the logs that could
// write a credential: which headers the handler accepts credentials in,
// and what the handler's server logs.
type credentialLogSetup struct {
	xChromaToken   bool // tokens are accepted in X-Chroma-Token
	authorization  bool // Basic or Bearer credentials are accepted
	accessLog      bool // the server writes an access log
	logCredentials bool // the server logs Authorization too (log_credentials)
}

// credentialLogWarnings are the warnings Provision logs about credentials
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
func credentialLogWarnings(s credentialLogSetup) []string {
	var out []string
	if s.xChromaToken {
		where := "the error log of any request a later handler fails (such as a 502 while Chroma is down)"
		if s.accessLog {
			where = "this server's access log and " + where
		}
		out = append(out, "X-Chroma-Token credentials are accepted and Caddy writes request headers as they arrived to "+where+
			": unless those logs filter it, tokens are written in clear. Give them "+cli.FilterHint(cli.ChromaTokenFilter)+
			" (in the site's log block, and in `log default` of the global options); `caddy chroma-auth check` names the logs that lack it")
	}
	if !s.xChromaToken && s.accessLog {
		out = append(out, "this server writes an access log, and Caddy copies every request's headers into it as they arrived: any client may send X-Chroma-Token, whatever token_header says, and its value is written in clear. Give the access log "+
			cli.FilterHint(cli.ChromaTokenFilter)+"; `caddy chroma-auth check` names the logs that lack it")
	}
	if s.authorization && s.logCredentials {
		out = append(out, "log_credentials is on: Caddy's logs write the Authorization header, with Basic passwords and Bearer tokens, in clear. Turn it off, or give the logs "+
			cli.FilterHint(cli.AuthorizationFilter))
	}
	return out
}

// warnCredentialLogs logs the warnings of credentialLogWarnings for the
// server this handler is provisioned in.
func (h *ChromaAuth) warnCredentialLogs(ctx caddy.Context, pol *policy) {
	s := credentialLogSetup{
		xChromaToken:  h.tokenHeader == headerChromaToken && pol.creds.Token(),
		authorization: pol.creds.Basic() || (pol.creds.Token() && h.tokenHeader == headerAuthorization),
	}
	if srv, ok := ctx.Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server); ok && srv.Logs != nil {
		s.accessLog, s.logCredentials = true, srv.Logs.ShouldLogCredentials
	}
	for _, w := range credentialLogWarnings(s) {
		h.logger.Warn(strings.TrimSpace(w))
	}
}
