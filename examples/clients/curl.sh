#!/usr/bin/env bash
# Chroma's REST API through the chroma_auth gateway with curl, trusting
# Caddy's local CA by file (--cacert).
#
#   examples/clients/curl.sh
#
# Env (defaults: the `make run` demo): CHROMA_URL (https://localhost:8443),
# CHROMA_CA_CERT (.run/caddy/pki/authorities/local/root.crt), CHROMA_USER
# and CHROMA_PASSWORD for Basic auth (admin / admin:secret), or CHROMA_TOKEN
# for a token, sent as `Authorization: Bearer` unless
# CHROMA_TOKEN_HEADER=X-Chroma-Token; CHROMA_COLLECTION (demo);
# CHROMA_TENANT and CHROMA_DATABASE (default_tenant, default_database).
set -euo pipefail

url=${CHROMA_URL:-https://localhost:8443}
ca=${CHROMA_CA_CERT:-.run/caddy/pki/authorities/local/root.crt}
name=${CHROMA_COLLECTION:-demo}
db="$url/api/v2/tenants/${CHROMA_TENANT:-default_tenant}/databases/${CHROMA_DATABASE:-default_database}"

if [[ -n ${CHROMA_TOKEN:-} ]]; then
	if [[ ${CHROMA_TOKEN_HEADER:-Authorization} == X-Chroma-Token ]]; then
		auth=(--header "X-Chroma-Token: $CHROMA_TOKEN")
	else
		auth=(--header "Authorization: Bearer $CHROMA_TOKEN")
	fi
else
	# -u splits nothing: the password may contain ':' (RFC 7617).
	auth=(--user "${CHROMA_USER:-admin}:${CHROMA_PASSWORD:-admin:secret}")
fi

chroma() { # chroma METHOD PATH [JSON]: one request, fails on any HTTP error
	curl --silent --show-error --fail-with-body --cacert "$ca" "${auth[@]}" \
		--request "$1" --header 'Content-Type: application/json' ${3:+--data-binary "$3"} "$2"
}

echo "heartbeat: $(curl --silent --show-error --fail --cacert "$ca" "$url/api/v2/heartbeat")"
echo "version: $(curl --silent --show-error --fail --cacert "$ca" "$url/api/v2/version")"

id=$(chroma POST "$db/collections" "{\"name\":\"$name\"}" | sed -E 's/.*"id":"([^"]+)".*/\1/')
chroma POST "$db/collections/$id/add" \
	'{"ids":["cats","cars"],"embeddings":[[0.9,0.1,0.0],[0.0,0.2,0.9]],"documents":["Cats sleep most of the day.","Cars need fuel."]}' >/dev/null
nearest=$(chroma POST "$db/collections/$id/query" '{"query_embeddings":[[1,0,0]],"n_results":1}' |
	sed -E 's/.*"ids":\[\["([^"]+)".*/\1/')
echo "nearest: $nearest"
echo "count: $(chroma GET "$db/collections/$id/count")"
chroma DELETE "$db/collections/$name" >/dev/null
echo "deleted: $name"
