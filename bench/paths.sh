# bench/paths.sh: the paths users now pick the gateway for, measured in the
# same run as the baseline (plain reverse_proxy, A) and beside the peers a
# user would pick instead. Sourced by bench/run.sh (needs its functions:
# start, wait_port, wrk_run, skip, log, die, caddy_global, caddy_site).
#
#   JH JE JR   chroma_auth, a cached JWT: HS256, ES256, RS256
#   OE OR      oauth2-proxy (go install), bearer JWTs checked against the
#              bench issuer's discovery document and JWKS: ES256, RS256
#   PE PR      Apache mod_auth_openidc as an OAuth 2.0 resource server
#              (Debian's libapache2-mod-auth-openidc), JWKS over HTTPS
#   K          chroma_auth, an API key (keys_file)
#   S          chroma_auth, a token scoped to a tenant and database with an
#              RBAC file and collection grants, a request by collection id
#   U          chroma_auth token with the audit log written to a file of
#              its own (audit { output file … })
#   UL         the same audit routed to a file by Caddy's `log` (what
#              Caddy's logging costs the line; no goal)
#   AU         plain reverse_proxy with Caddy's access log written to a file
#              as JSON: what a user would pick instead of the audit (U's peer)
#   Q          chroma_auth token with quotas, shared state in Redis
#   L          chroma_auth, the listing of 1,000 collections filtered by a
#              caller's grants (scenario "listing": against A's plain one)
#   RW         chroma_auth, a query with row filters (scenario "query":
#              against A and the same token without rows, QC)
# Every gateway answers the same upstream (bench/cmd/upstream), which lists
# 1,000 collections per database. A path this machine or this build cannot
# run (a tool missing, a directive the build lacks) is skipped with why.

ISSUER_PORT=$((P0 + 9))
ISSUER_TLS_PORT=$((P0 + 10))
REDIS_PORT=$((P0 + 112))
declare -A ROUTE_OF SCRIPT_OF AUTH_OF_PATH
PATH_KEYS=()
LISTING_ROUTE=/api/v2/tenants/default_tenant/databases/default_database/collections
SCOPED_ID=00000000-0000-4000-8000-000000000005
SCOPED_ROUTE=/api/v2/tenants/default_tenant/databases/default_database/collections/$SCOPED_ID/count
QUERY_ROUTE=/api/v2/tenants/default_tenant/databases/default_database/collections/$SCOPED_ID/query

NAME[JH]="chroma_auth JWT HS256 (cached)"
NAME[JE]="chroma_auth JWT ES256 (cached)"
NAME[JR]="chroma_auth JWT RS256 (cached)"
NAME[OE]="oauth2-proxy JWT ES256"
NAME[OR]="oauth2-proxy JWT RS256"
NAME[PE]="Apache mod_auth_openidc ES256"
NAME[PR]="Apache mod_auth_openidc RS256"
NAME[K]="chroma_auth API key"
NAME[S]="chroma_auth scoped RBAC + grants, by id"
NAME[U]="chroma_auth token + audit to a file"
NAME[UL]="chroma_auth token + audit through Caddy's log"
NAME[AU]="Caddy reverse_proxy + access log to a file"
NAME[Q]="chroma_auth token + quotas in Redis"
NAME[L]="chroma_auth filtered listing (1,000)"
NAME[QC]="chroma_auth token, query"
NAME[RW]="chroma_auth token with rows, query"
PORT[JH]=$((P0 + 101)) PORT[JE]=$((P0 + 102)) PORT[JR]=$((P0 + 103)) PORT[OE]=$((P0 + 104)) PORT[OR]=$((P0 + 104))
PORT[PE]=$((P0 + 105)) PORT[PR]=$((P0 + 105)) PORT[K]=$((P0 + 106)) PORT[S]=$((P0 + 107)) PORT[U]=$((P0 + 108))
PORT[L]=$((P0 + 109)) PORT[RW]=$((P0 + 110)) PORT[Q]=$((P0 + 111)) PORT[QC]=$((P0 + 113))
PORT[AU]=$((P0 + 114)) PORT[UL]=$((P0 + 115))

# path_caddy KEY AUTH-BLOCK [GLOBAL]: writes and starts Caddy gateway KEY;
# false (and a skip line) when this build does not take its config.
path_caddy() {
	local k=$1
	{
		if [ -n "${3:-}" ]; then printf '%s\n' "$3"; else caddy_global; fi
		caddy_site "$k" "$2"
	} >"$RUN/$k.Caddyfile"
	if ! "$OUT/caddy" validate --config "$RUN/$k.Caddyfile" --adapter caddyfile >"$RUN/$k.validate" 2>&1; then
		skip "${NAME[$k]} ($k)" "this build does not take its config: $(grep -o -m1 'chroma_auth: [^"]*' "$RUN/$k.validate" | head -1 | cut -c1-160)"
		return 1
	fi
	start "$k" "$OUT/caddy" run --config "$RUN/$k.Caddyfile" --adapter caddyfile
}

# path_add KEY AUTH [ROUTE [SCRIPT]]: KEY is measured, once it answered 200.
path_add() {
	local k=$1 got
	AUTH_OF_PATH[$k]=$2
	ROUTE_OF[$k]=${3:-$ROUTE}
	SCRIPT_OF[$k]=${4:-$RUN/plain.lua}
	if ! wait_port "${PORT[$k]}" "$k" 100; then
		skip "${NAME[$k]} ($k)" "$WAIT_ERR"
		return 0
	fi
	if [ "${SCRIPT_OF[$k]}" = "$RUN/query.lua" ]; then
		got=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 -X POST -H 'Content-Type: application/json' \
			--data @"$RUN/query.json" -H "Authorization: $2" "http://$HOST:${PORT[$k]}${ROUTE_OF[$k]}")
	else
		got=$(status "$k" "$2" "${ROUTE_OF[$k]}")
	fi
	[ "$got" = 200 ] || die "$k (${NAME[$k]}): valid credential answered $got"
	got=$(status "$k" "" "${ROUTE_OF[$k]}")
	case $got in 401 | 403) ;; *) die "$k (${NAME[$k]}): no credential answered $got" ;; esac
	PATH_KEYS+=("$k")
}

# alias_pid KEY OTHER: KEY is a second credential on OTHER's process.
alias_pid() { PID[$1]=${PID[$2]}; }

paths_issuer() {
	mkdir -p "$RUN/jwt"
	start ISS "$OUT/issuer" -addr "$HOST:$ISSUER_PORT" -tls-addr "$HOST:$ISSUER_TLS_PORT" -out "$RUN/jwt"
	local i
	for i in $(seq 1 100); do [ -s "$RUN/jwt/issuer.url" ] && break; sleep 0.1; done
	must_wait_port "$ISSUER_PORT" ISS
	ISSUER_URL=$(<"$RUN/jwt/issuer.url")
}

paths_jwt() {
	path_caddy JH "	chroma_auth {
		jwt {
			secret_file $RUN/jwt/hs256.secret
			algorithms HS256
		}
	}" && path_add JH "Bearer $(<"$RUN/jwt/hs256.jwt")"
	local k alg pem
	for k in JE JR; do
		case $k in JE) alg=ES256 pem=ec-public.pem ;; JR) alg=RS256 pem=rsa-public.pem ;; esac
		path_caddy "$k" "	chroma_auth {
		jwt {
			key_file $RUN/jwt/$pem
			issuer $ISSUER_URL
			audience chroma
			algorithms $alg
		}
	}" && path_add "$k" "Bearer $(<"$RUN/jwt/${alg,,}.jwt")"
	done
}

paths_oauth2_proxy() {
	local bin
	bin=$(command -v oauth2-proxy || echo "$(go env GOPATH)/bin/oauth2-proxy")
	if [ ! -x "$bin" ]; then
		log "installing oauth2-proxy with go install (${OAUTH2_PROXY_VERSION})"
		GOFLAGS= go install "github.com/oauth2-proxy/oauth2-proxy/v7@${OAUTH2_PROXY_VERSION}" >"$RUN/oauth2-proxy.install" 2>&1 ||
			{ skip "oauth2-proxy (OE, OR)" "go install failed: $(tail -n 1 "$RUN/oauth2-proxy.install")"; return 0; }
	fi
	start OE "$bin" --http-address="$HOST:${PORT[OE]}" --provider=oidc --oidc-issuer-url="$ISSUER_URL" \
		--client-id=chroma --client-secret=bench --cookie-secret=0123456789abcdef0123456789abcdef \
		--email-domain='*' --upstream="http://$HOST:$UP_PORT/" --skip-jwt-bearer-tokens=true \
		--api-route=/api --cookie-secure=false --request-logging=false --auth-logging=false --standard-logging=false
	alias_pid OR OE
	path_add OE "Bearer $(<"$RUN/jwt/es256.jwt")"
	path_add OR "Bearer $(<"$RUN/jwt/rs256.jwt")"
	printf 'oauth2-proxy\t%s\n' "$("$bin" --version 2>&1 | head -1)" >>"$OUT/meta.tsv"
}

paths_apache() {
	local mods=/usr/lib/apache2/modules
	if ! command -v apache2 >/dev/null || [ ! -f $mods/mod_auth_openidc.so ]; then
		apt_install apache2 libapache2-mod-auth-openidc ||
			{ skip "Apache mod_auth_openidc (PE, PR)" "$(why_missing apache2) (packages apache2, libapache2-mod-auth-openidc)"; return 0; }
	fi
	mkdir -p "$RUN/apache"
	chmod 755 "$RUN/apache"
	cat >"$RUN/apache/httpd.conf" <<EOF
ServerRoot $RUN/apache
PidFile $RUN/apache/httpd.pid
Listen $HOST:${PORT[PE]}
ServerName localhost
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authn_core_module $mods/mod_authn_core.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule authz_user_module $mods/mod_authz_user.so
LoadModule auth_openidc_module $mods/mod_auth_openidc.so
LoadModule proxy_module $mods/mod_proxy.so
LoadModule proxy_http_module $mods/mod_proxy_http.so
ErrorLog $RUN/apache/error.log
LogLevel crit
User nobody
Group nogroup
# As a resource server: the bearer JWT's signature against the issuer's
# JWKS (fetched over HTTPS and cached), exp and nbf.
OIDCOAuthVerifyJwksUri https://$HOST:$ISSUER_TLS_PORT/jwks.json
OIDCOAuthSSLValidateServer Off
OIDCOAuthRemoteUserClaim sub
OIDCCryptoPassphrase bench-passphrase
<Location />
	AuthType oauth20
	Require valid-user
</Location>
ProxyPass / http://$HOST:$UP_PORT/ keepalive=On
EOF
	start PE apache2 -f "$RUN/apache/httpd.conf" -DFOREGROUND
	alias_pid PR PE
	path_add PE "Bearer $(<"$RUN/jwt/es256.jwt")"
	path_add PR "Bearer $(<"$RUN/jwt/rs256.jwt")"
	printf 'apache\t%s, mod_auth_openidc %s\n' "$(apache2 -v | sed -n 's/^Server version: //p')" \
		"$(dpkg-query -W -f='${Version}' libapache2-mod-auth-openidc 2>/dev/null || echo '?')" >>"$OUT/meta.tsv"
}

paths_scoped() {
	cat >"$RUN/users.yaml" <<EOF
users:
  - id: scoped
    tokens: [tok-scoped-0123456789abcdef]
    tenant: default_tenant
    databases: [default_database]
    role: reader
    collections:
      "bench-00*": read
  - id: lister
    tokens: [tok-lister-0123456789abcdef]
    tenant: default_tenant
    databases: [default_database]
    collections:
      "bench-*": read
  - id: plain
    tokens: [tok-plain-0123456789abcdef]
  - id: rowuser
    tokens: [tok-rows-0123456789abcdef]
    rows:
      owner: "{user}"
EOF
	cat >"$RUN/rbac.yaml" <<EOF
roles_mapping:
  reader:
    actions: ["collection:count", "collection:get", "collection:query", "collection:get_collection", "db:list_collections", "db:count_collections"]
users:
  - id: scoped
    role: reader
EOF
	# The users file without rows, for builds that do not know rows.
	sed '/^  - id: rowuser/,$d' "$RUN/users.yaml" >"$RUN/users-norows.yaml"
	path_caddy S "	chroma_auth {
		token_file $RUN/users-norows.yaml
		authz $RUN/rbac.yaml
	}" && path_add S "Bearer tok-scoped-0123456789abcdef" "$SCOPED_ROUTE"
	path_caddy L "	chroma_auth {
		token_file $RUN/users-norows.yaml
	}" && path_add L "Bearer tok-lister-0123456789abcdef" "$LISTING_ROUTE"
}

paths_key() {
	KEY=$("$OUT/caddy" chroma-auth key create --file "$RUN/keys.jsonl" --user bench --expires 1d 2>"$RUN/key.stderr") ||
		{ skip "${NAME[K]} (K)" "key create failed: $(tail -n 1 "$RUN/key.stderr")"; return 0; }
	path_caddy K "	chroma_auth {
		keys_file $RUN/keys.jsonl
	}" && path_add K "Bearer $KEY"
}

paths_audit() {
	path_caddy U "	chroma_auth {
		token $TOKEN
		audit {
			output file $RUN/audit.log
		}
	}" && path_add U "$AUTH_TOKEN"
	path_caddy UL "	chroma_auth {
		token $TOKEN
		audit
	}" "{
	admin off
	auto_https off
	persist_config off
	log {
		level ERROR
		exclude http.handlers.chroma_auth.audit
	}
	log chroma_audit {
		output file $RUN/audit-log.log
		format json
		include http.handlers.chroma_auth.audit
	}
}" && path_add UL "$AUTH_TOKEN"
}

paths_quota() {
	if ! command -v redis-server >/dev/null; then
		apt_install redis-server || { skip "${NAME[Q]} (Q)" "$(why_missing redis-server)"; return 0; }
	fi
	mkdir -p "$RUN/redis"
	start REDIS redis-server --port "$REDIS_PORT" --bind "$HOST" --save '' --appendonly no --dir "$RUN/redis"
	local i
	for i in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
	path_caddy Q "	chroma_auth {
		token $TOKEN
		limits {
			rate 1000000/s
			burst 1000000
			concurrent 10000
			max_batch 1000
			max_results 1000
		}
		shared_state redis://$HOST:$REDIS_PORT/0
	}" && path_add Q "$AUTH_TOKEN"
}

# paths_accesslog: U's peer, Caddy's own access log (the site's `log`
# directive, JSON to a file) on plain reverse_proxy. It checks nothing, so
# it is added without path_add's refusal check.
paths_accesslog() {
	path_caddy AU "	log {
		output file $RUN/access.log
		format json
	}" || return 1
	AUTH_OF_PATH[AU]=$AUTH_TOKEN ROUTE_OF[AU]=$ROUTE SCRIPT_OF[AU]=$RUN/plain.lua
	if ! wait_port "${PORT[AU]}" AU 100; then
		skip "${NAME[AU]} (AU)" "$WAIT_ERR"
		return 0
	fi
	local got
	got=$(status AU "$AUTH_TOKEN")
	[ "$got" = 200 ] || die "AU (${NAME[AU]}): answered $got"
	PATH_KEYS+=(AU)
}

paths_rows() {
	# One query body for A, QC and RW: 10 results near a 1,536-dimension
	# embedding, with a where of its own (RW's rows are ANDed into it).
	python3 - "$RUN/query.json" <<'EOF'
import json, random, sys
random.seed(1)
emb = [round(random.uniform(-1, 1), 6) for _ in range(1536)]
json.dump({"query_embeddings": [emb], "n_results": 10, "where": {"topic": "news"},
           "include": ["metadatas", "documents", "distances"]}, open(sys.argv[1], "w"))
EOF
	{
		printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
		printf 'local f = io.open("%s")\nwrk.body = f:read("*a")\nf:close()\n' "$RUN/query.json"
		cat "$RUN/report.lua"
	} >"$RUN/query.lua"
	path_caddy QC "	chroma_auth {
		token_file $RUN/users-norows.yaml
	}" && path_add QC "Bearer tok-plain-0123456789abcdef" "$QUERY_ROUTE" "$RUN/query.lua"
	path_caddy RW "	chroma_auth {
		token_file $RUN/users.yaml
	}" && path_add RW "Bearer tok-rows-0123456789abcdef" "$QUERY_ROUTE" "$RUN/query.lua"
}

# paths_start: every path gateway, started and checked.
paths_start() {
	log "path gateways: JWT (chroma_auth, oauth2-proxy, Apache), API key, scoped by id, audit, quotas, listing, rows"
	(cd "$ROOT" && go build -o "$OUT/issuer" ./bench/cmd/issuer)
	paths_issuer
	# A path that cannot run here says so (skip) and returns false; die
	# still ends the run.
	local step
	for step in ${PATH_STEPS:-paths_jwt paths_oauth2_proxy paths_apache paths_key paths_scoped paths_audit paths_accesslog paths_quota paths_rows}; do
		"$step" || true
	done
	log "path gateways answering: ${PATH_KEYS[*]}"
}

# paths_load: rounds of A then every path on its own route; the listing and
# the query each against A on the same route and body.
paths_load() {
	local r k
	for k in "${PATH_KEYS[@]}"; do wrk_run warm "$k" 0 "${SCRIPT_OF[$k]}" 2 "${AUTH_OF_PATH[$k]}" "${ROUTE_OF[$k]}"; done
	log "every path: $ROUNDS rounds of A ${PATH_KEYS[*]}, ${DURATION}s each"
	for r in $(seq 1 "$ROUNDS"); do
		wrk_run paths A "$r" "$RUN/plain.lua" "$DURATION" "$AUTH_TOKEN"
		for k in "${PATH_KEYS[@]}"; do
			case $k in L | QC | RW) continue ;; esac
			wrk_run paths "$k" "$r" "${SCRIPT_OF[$k]}" "$DURATION" "${AUTH_OF_PATH[$k]}" "${ROUTE_OF[$k]}"
			sleep 0.5
		done
		if [ -n "${AUTH_OF_PATH[L]:-}" ]; then
			wrk_run listing A "$r" "$RUN/plain.lua" "$DURATION" "$AUTH_TOKEN" "$LISTING_ROUTE"
			wrk_run listing L "$r" "$RUN/plain.lua" "$DURATION" "${AUTH_OF_PATH[L]}" "$LISTING_ROUTE"
		fi
		if [ -n "${AUTH_OF_PATH[QC]:-}" ]; then
			wrk_run query A "$r" "$RUN/query.lua" "$DURATION" "$AUTH_TOKEN" "$QUERY_ROUTE"
			for k in QC RW; do
				[ -n "${AUTH_OF_PATH[$k]:-}" ] || continue
				wrk_run query "$k" "$r" "$RUN/query.lua" "$DURATION" "${AUTH_OF_PATH[$k]}" "$QUERY_ROUTE"
			done
		fi
	done
}
