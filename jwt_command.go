package chromaauth

import (
	"github.com/spf13/cobra"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/cli"
)

func jwtCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "jwt --subject <user> (--secret-file <file> | --secret-env <VAR> | --key-file <pem>) [flags]",
		Short: "Prints a signed, self-issued JWT scoped to a tenant, databases, role and collections",
		Long: `
Mints a JWT for an app that hands its users scoped tokens. The scope goes
into a "chroma" claim, read by a gateway configured with

  jwt {
      secret_file       /etc/chroma/jwt.secret   # or key_file <public.pem>
      issuer            <the --issuer given here>
      tenant_claim      chroma.tenant
      databases_claim   chroma.databases
      role_claim        chroma.role
      collections_claim chroma.collections
  }

The HMAC secret comes from a file or an environment variable, never the
command line; an Ed25519, EC or RSA private key from a PEM file.
`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, fs caddycmd.Flags, _ []string) (int, error) {
			f := cmd.Flags()
			aud, _ := f.GetStringSlice("audience")
			dbs, _ := f.GetStringSlice("database")
			colls, _ := f.GetStringSlice("collection")
			life, _ := f.GetDuration("lifetime")
			return cli.RunJWT(stdio(cmd), cli.JWTArgs{
				SecretFile: fs.String("secret-file"), SecretEnv: fs.String("secret-env"), KeyFile: fs.String("key-file"),
				Alg: fs.String("alg"), KeyID: fs.String("kid"),
				Subject: fs.String("subject"), Issuer: fs.String("issuer"), Audience: aud,
				Tenant: fs.String("tenant"), Databases: dbs, Role: fs.String("role"), Collections: colls,
				Lifetime: life,
			})
		}),
	}
	fl := c.Flags()
	fl.String("secret-file", "", "File holding the HMAC secret (at least 32 bytes)")
	fl.String("secret-env", "", "Environment variable holding the HMAC secret")
	fl.String("key-file", "", "PEM private key (Ed25519, EC or RSA) to sign with")
	fl.String("alg", "", "Algorithm (default: HS256 with a secret, else EdDSA, ES256/384/512 or RS256 by the key)")
	fl.String("kid", "", "Key id header, when the gateway knows several keys")
	fl.String("subject", "", "The user (sub claim; required)")
	fl.String("issuer", "", "The iss claim")
	fl.StringSlice("audience", nil, "The aud claim (repeatable)")
	fl.String("tenant", "", "The tenant the token may reach")
	fl.StringSlice("database", nil, "A database the token may reach (repeatable)")
	fl.String("role", "", "The role, for the authz file")
	fl.StringSlice("collection", nil, "A collection grant name=read|write|admin, globs allowed (repeatable)")
	fl.Duration("lifetime", cli.DefaultJWTLifetime, "How long the token is valid")
	return c
}
