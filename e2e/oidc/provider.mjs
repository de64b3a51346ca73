// A real OpenID Connect provider for the end-to-end tests: the npm
// `oidc-provider` package (panva), issuing JWT access tokens by the OAuth 2
// client-credentials grant. Nothing here is ours but the configuration.
//
// Env:
//   OIDC_PORT       port to listen on (127.0.0.1); the issuer is http://127.0.0.1:<port>
//   OIDC_JWKS_FILE  the signing keys, a private JWKS; the first key of
//                   OIDC_ALG's kind signs (rotation: restart with a new key first)
//   OIDC_ALG        the access tokens' algorithm (RS256, ES256, ...)
//   OIDC_CLIENT_SECRET  the secret of client "chroma-app"
//
// Access tokens: audience = the requested `resource` (default
// urn:chroma:gateway), 5 minutes, with a `chroma` claim giving Chroma's
// default tenant and database, as the gateway's claim mapping reads.
import fs from "node:fs";
import Provider from "oidc-provider";

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;
const jwks = JSON.parse(fs.readFileSync(process.env.OIDC_JWKS_FILE, "utf8"));
const alg = process.env.OIDC_ALG || "RS256";

const provider = new Provider(issuer, {
  jwks,
  clients: [
    {
      client_id: "chroma-app",
      client_secret: process.env.OIDC_CLIENT_SECRET,
      grant_types: ["client_credentials"],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => "urn:chroma:gateway",
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resourceIndicator) => ({
        scope: "chroma",
        audience: resourceIndicator,
        accessTokenTTL: 300,
        accessTokenFormat: "jwt",
        jwt: { sign: { alg } },
      }),
    },
  },
  extraTokenClaims: () => ({
    chroma: { tenant: "default_tenant", databases: ["default_database"], role: "app" },
  }),
});

const server = provider.listen(port, "127.0.0.1", () => {
  console.log(`oidc-provider listening: ${issuer}`);
});
for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => server.close(() => process.exit(0)));
}
