package cli

import (
	"github.com/spf13/cobra"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
)

// Command is `caddy chroma-auth`, for caddycmd.RegisterCommand. open
// loads the explainer of explain and test (the handler's, which judges
// with its own steps).
func Command(open OpenExplainer) caddycmd.Command {
	return caddycmd.Command{
		Name:  "chroma-auth",
		Usage: "htpasswd <add|set|remove|verify> | token | jwt | key <create|list|revoke> | check | explain | test",
		Short: "Manages chroma_auth credentials and checks a config",
		Long: `
Tools for the chroma_auth handler, with no Docker and no Apache htpasswd
needed.

  caddy chroma-auth htpasswd add    --file <htpasswd> --user <name> [--cost <n>]
  caddy chroma-auth htpasswd set    --file <htpasswd> --user <name> [--cost <n>]
  caddy chroma-auth htpasswd remove --file <htpasswd> --user <name>
  caddy chroma-auth htpasswd verify --file <htpasswd> --user <name>
  caddy chroma-auth token [--bytes <n>]
  caddy chroma-auth jwt --subject <user> (--secret-file <f> | --secret-env <VAR> | --key-file <pem>) [...]
  caddy chroma-auth key create --file <keys> --user <name> [--tenant <t>] [--databases <d,...>]
        [--role <r>] [--collections docs=read,team-*=write] [--rows owner={user},...]
        [--expires 90d|36h|30s | --no-expiry] [--label <l>]
        [--config <Caddyfile>]
  caddy chroma-auth key list   --file <keys>
  caddy chroma-auth key revoke --file <keys> <id>
  caddy chroma-auth check --config <Caddyfile> [--adapter <name>]
  caddy chroma-auth explain --config <Caddyfile> [--site <address>]
        (--user <name> | --token <t> | --key <k> | --jwt <t>)
        <METHOD> <path> [--body <json>] [--upstream <Chroma URL>]
  caddy chroma-auth test --config <Caddyfile> [--site <address>] [--upstream <Chroma URL>] <cases.yaml>

Passwords are read from stdin when it is not a terminal (the first line), or
prompted for on the terminal without echo (twice, to confirm, when setting
one). They are never taken from the command line, where ps and the shell
history would show them, unless --password-from-argv is given.

Files are replaced atomically (a temporary file in the same directory,
synced, then renamed), keep their mode, and are created with mode 0600.
Only bcrypt hashes are written, the only kind Chroma and chroma_auth accept.
A file that does not parse is not edited: the error names its file and line.
`,
		CobraFunc: func(cmd *cobra.Command) {
			cmd.AddCommand(htpasswdCommand(), tokenCommand(), checkCommand(), jwtCommand(), keyCommand(), explainCommand(open), testCommand(open))
		},
	}
}

func stdio(cmd *cobra.Command) IO {
	return IO{Stdin: cmd.InOrStdin(), Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr()}
}

// runE adapts a command function that needs the positional arguments to
// cobra, with Caddy's error reporting and exit codes.
func runE(f func(cmd *cobra.Command, fs caddycmd.Flags, args []string) (int, error)) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		return caddycmd.WrapCommandFuncForCobra(func(fs caddycmd.Flags) (int, error) {
			return f(cmd, fs, args)
		})(cmd, args)
	}
}

func htpasswdCommand() *cobra.Command {
	parent := &cobra.Command{
		Use:   "htpasswd <add|set|remove|verify> --file <htpasswd> --user <name>",
		Short: "Adds, changes, removes or verifies a user of a bcrypt htpasswd file",
	}
	ops := []struct{ name, short string }{
		{"add", "Adds a user (refuses an existing one)"},
		{"set", "Sets a user's password, adding the user if needed"},
		{"remove", "Removes a user (refuses a missing one)"},
		{"verify", "Checks a user's password; exits 1 when it is wrong"},
	}
	for _, op := range ops {
		c := &cobra.Command{
			Use:   op.name + " --file <htpasswd> --user <name>",
			Short: op.short,
			Args:  cobra.MaximumNArgs(1),
			RunE: runE(func(cmd *cobra.Command, fs caddycmd.Flags, args []string) (int, error) {
				return RunHtpasswd(stdio(cmd), HtpasswdArgs{
					Op:               op.name,
					File:             fs.String("file"),
					User:             fs.String("user"),
					Cost:             flagInt(fs, "cost"),
					PasswordFromArgv: flagBool(fs, "password-from-argv"),
					Args:             args,
				})
			}),
		}
		c.Flags().StringP("file", "f", "", "The htpasswd file (required)")
		c.Flags().StringP("user", "u", "", "The user name (required)")
		if op.name == "add" || op.name == "set" {
			c.Flags().Int("cost", 0, "bcrypt cost, 4 to 31 (default 10)")
		}
		if op.name != "remove" {
			c.Flags().Bool("password-from-argv", false, "Take the password from the argument (unsafe: ps and shell history show it)")
		}
		parent.AddCommand(c)
	}
	return parent
}

// flagInt and flagBool read a flag that only some subcommands define.
func flagInt(fs caddycmd.Flags, name string) int {
	if fs.Lookup(name) == nil {
		return 0
	}
	return fs.Int(name)
}

func flagBool(fs caddycmd.Flags, name string) bool {
	return fs.Lookup(name) != nil && fs.Bool(name)
}

func tokenCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "token [--bytes <n>]",
		Short: "Prints a new random token (URL-safe base64 of crypto/rand bytes)",
		Args:  cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, fs caddycmd.Flags, _ []string) (int, error) {
			return RunToken(stdio(cmd), fs.Int("bytes"))
		}),
	}
	c.Flags().Int("bytes", DefaultTokenBytes, "Random bytes in the token (16 to 3072)")
	return c
}

func checkCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "check --config <Caddyfile> [--adapter <name>]",
		Short: "Checks every chroma_auth handler of a config: public routes, users, tokens, errors",
		Long: `
Adapts the config, finds every chroma_auth handler in it and loads each
handler's credential and RBAC files as the gateway would. For each it says
which routes are public, how many users and tokens load, which header
tokens are read from, and what is wrong. It also warns about reverse_proxy
handlers with no chroma_auth before them. No secret is printed. Exits 1
when anything would stop the gateway from starting.

Handlers with from_env read Chroma's variables from this command's
environment: run it with the gateway's environment.
`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, fs caddycmd.Flags, _ []string) (int, error) {
			return RunCheck(stdio(cmd), CheckOptions{
				Config:  fs.String("config"),
				Adapter: fs.String("adapter"),
			})
		}),
	}
	c.Flags().StringP("config", "c", "", "Configuration file (required)")
	c.Flags().StringP("adapter", "a", "", "Name of config adapter (default: caddyfile for a file named Caddyfile*, else JSON)")
	return c
}

// keyCommand is `caddy chroma-auth key <create|list|revoke>`; see RunKey.
func keyCommand() *cobra.Command {
	parent := &cobra.Command{
		Use:   "key <create|list|revoke> --file <keys>",
		Short: "Creates, lists or revokes API keys (the file keeps only their hashes)",
	}
	ops := []struct{ name, use, short string }{
		{"create", "create --file <keys> --user <name> [scope flags]", "Makes a key and prints it, once; the file keeps its hash"},
		{"list", "list --file <keys>", "Lists the keys: ids, users, labels, scopes, expiry; never a secret"},
		{"revoke", "revoke --file <keys> <id>", "Removes a key; the gateway refuses it at its next reload"},
	}
	for _, op := range ops {
		c := &cobra.Command{
			Use:   op.use,
			Short: op.short,
			RunE: runE(func(cmd *cobra.Command, fs caddycmd.Flags, args []string) (int, error) {
				a := KeyArgs{Op: op.name, File: fs.String("file"), Args: args}
				if op.name == "create" {
					a.User, a.Tenant, a.Databases = fs.String("user"), fs.String("tenant"), fs.String("databases")
					a.Role, a.Collections, a.Label = fs.String("role"), fs.String("collections"), fs.String("label")
					a.Expires, a.NoExpiry = fs.String("expires"), fs.Bool("no-expiry")
					a.Rows = fs.String("rows")
					a.Config, a.Adapter = fs.String("config"), fs.String("adapter")
					a.Rate, a.Burst, a.Concurrent = fs.String("rate"), fs.Int("burst"), fs.Int("concurrent")
					a.MaxBatch, a.MaxResults, a.MaxWhere = fs.Int("max-batch"), fs.Int("max-results"), fs.Int("max-where")
				}
				return RunKey(stdio(cmd), a)
			}),
		}
		c.Flags().StringP("file", "f", "", "The keys file (required)")
		if op.name == "create" {
			c.Flags().StringP("user", "u", "", "The user the key acts as (required)")
			c.Flags().String("tenant", "", "The one tenant the key reaches (default: every tenant)")
			c.Flags().String("databases", "", "The databases the key reaches, comma-separated (default: every one)")
			c.Flags().String("role", "", "The key's RBAC role")
			c.Flags().String("collections", "", "Collection grants, name-or-glob=read|write|admin, comma-separated (default: every collection)")
			c.Flags().String("rows", "", "Row-level security: metadata key=value pairs every record the key sees or writes holds, comma-separated ({user} is the user)")
			c.Flags().String("expires", "", "Lifetime: days (90d) or a duration (36h, 30s); default 90d")
			c.Flags().Bool("no-expiry", false, "Make a key that never expires")
			c.Flags().String("label", "", "A note to tell the key apart (laptop, ci)")
			c.Flags().StringP("config", "c", "", "The gateway's config: refuse a key wider than what its files give the user")
			c.Flags().StringP("adapter", "a", "", "Name of config adapter (default: caddyfile for a file named Caddyfile*, else JSON)")
			c.Flags().String("rate", "", "The key's request rate, <n>/s or <n>/m (never above its user's)")
			c.Flags().Int("burst", 0, "The key's burst (never above its user's)")
			c.Flags().Int("concurrent", 0, "The key's requests in flight at once (never above its user's)")
			c.Flags().Int("max-batch", 0, "Records in one add, upsert, update or delete")
			c.Flags().Int("max-results", 0, "n_results of a query, limit of a get")
			c.Flags().Int("max-where", 0, "Predicates in one request's where and where_document")
		}
		parent.AddCommand(c)
	}
	return parent
}

// jwtCommand is `caddy chroma-auth jwt`; see RunJWT.
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
			return RunJWT(stdio(cmd), JWTArgs{
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
	fl.Duration("lifetime", DefaultJWTLifetime, "How long the token is valid")
	return c
}

// explainCommand is `caddy chroma-auth explain`; see RunExplain.
func explainCommand(open OpenExplainer) *cobra.Command {
	c := &cobra.Command{
		Use:   "explain --config <Caddyfile> (--user <name> | --token <t> | --key <k> | --jwt <t>) <METHOD> <path>",
		Short: "Prints the gateway's decision on one request and why; exits 0 allowed, 1 refused, 2 usage or config error",
		Long: `
Loads the chroma_auth handler of the config (the one serving --site when
there are several) with its files, as the gateway would, and decides one
request of the caller: a user of its credential files (no password
needed), or a token, API key or JWT checked as the gateway checks it. It
prints the decision and why: the caller's entry (file and line), its scope,
its role and the action, the collection grant and level, the check that
refused. Nothing is sent anywhere, but with --upstream the collection
lookups a by-id decision needs go to that Chroma; without it, explain says
what it could not know. No secret is printed.
`,
		Args: cobra.ArbitraryArgs,
		RunE: runE(func(cmd *cobra.Command, fs caddycmd.Flags, args []string) (int, error) {
			return RunExplain(stdio(cmd), ExplainOptions{
				Config: fs.String("config"), Adapter: fs.String("adapter"), Site: fs.String("site"),
				Upstream: fs.String("upstream"), Body: fs.String("body"), Args: args, Open: open,
				As: As{User: fs.String("user"), Token: fs.String("token"), Key: fs.String("key"), JWT: fs.String("jwt")},
			})
		}),
	}
	explainFlags(c)
	c.Flags().StringP("user", "u", "", "A user of the credential files")
	c.Flags().String("token", "", "A token, as the client sends it")
	c.Flags().String("key", "", "An API key")
	c.Flags().String("jwt", "", "A JSON Web Token")
	c.Flags().String("body", "", "The request's JSON body")
	return c
}

// testCommand is `caddy chroma-auth test`; see RunPolicyTest.
func testCommand(open OpenExplainer) *cobra.Command {
	c := &cobra.Command{
		Use:   "test --config <Caddyfile> <cases.yaml>",
		Short: "Runs policy tests: exits 0 when every case holds, 1 naming each that does not, 2 on a usage or config error",
		Long: `
Decides every case of the cases file as explain does:

  cases:
    - name: alice reads docs
      as: {user: alice}            # or token, key, jwt ({env.VAR} read)
      request: {method: POST, path: /api/v2/.../get, body: {limit: 1}}
      expect: allow                # allow, deny (401 or 403), or a status
`,
		Args: cobra.ArbitraryArgs,
		RunE: runE(func(cmd *cobra.Command, fs caddycmd.Flags, args []string) (int, error) {
			return RunPolicyTest(stdio(cmd), TestOptions{
				Config: fs.String("config"), Adapter: fs.String("adapter"), Site: fs.String("site"),
				Upstream: fs.String("upstream"), Args: args, Open: open,
			})
		}),
	}
	explainFlags(c)
	return c
}

func explainFlags(c *cobra.Command) {
	c.Flags().StringP("config", "c", "", "Configuration file (required)")
	c.Flags().StringP("adapter", "a", "", "Name of config adapter (default: caddyfile for a file named Caddyfile*, else JSON)")
	c.Flags().String("site", "", "The site whose chroma_auth decides (host, host:port or :port), when the config has several")
	c.Flags().String("upstream", "", "Chroma's URL: ask it where collections named by id live")
}
