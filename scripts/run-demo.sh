#!/usr/bin/env bash
# The quick start (`make run`): a real Chroma server on loopback behind the
# chroma_auth gateway with HTTPS from Caddy's local CA and the demo
# credentials of examples/. Installs what is missing (the npm packages of
# e2e/, see node-deps.sh), builds the gateway, starts both, prints the URL,
# the CA root, a curl line and the client settings that work, and stops
# both on Ctrl-C.
#
# Env: CHROMA_PORT (8000) and CHROMA_GATEWAY_PORT (8443), both on
# 127.0.0.1; CHROMA_DEMO_STATE (.run): the gateway binary (bin/caddy),
# Chroma's data (fresh at every start), Caddy's CA and certificates
# (caddy/, as examples/demo.Caddyfile says), the logs.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
chroma_port=${CHROMA_PORT:-8000}
gateway_port=${CHROMA_GATEWAY_PORT:-8443}
state=${CHROMA_DEMO_STATE:-.run}
url="https://localhost:$gateway_port"

die() { echo "run-demo: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is missing: $2"; }
need go "install Go 1.26+ (https://go.dev/dl)"
need node "install Node.js 20+ and npm (Debian: apt-get install nodejs npm)"
need npm "install npm (Debian: apt-get install npm)"
need curl "install curl (Debian: apt-get install curl)"
need setsid "install util-linux"
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_busy "$chroma_port" && die "port $chroma_port is in use: set CHROMA_PORT"
port_busy "$gateway_port" && die "port $gateway_port is in use: set CHROMA_GATEWAY_PORT"

scripts/node-deps.sh

mkdir -p "$state/bin"
state=$(cd "$state" && pwd) # printed paths work from any folder
# Caddy's storage is $state/caddy, a folder: the binary goes to bin/ (an
# earlier version of this script built it to $state/caddy itself).
[[ -f $state/caddy ]] && rm -f "$state/caddy"
ca_root="$state/caddy/pki/authorities/local/root.crt"
gateway="$state/bin/caddy"
echo "run-demo: building the gateway (./cmd/caddy)"
go build -o "$gateway" ./cmd/caddy

# Each child runs in a session (and process group) of its own, so stopping
# the group ends everything it started.
pids=()
stop() {
	for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap stop EXIT
trap 'echo; echo "run-demo: stopping Chroma and the gateway"; exit 130' INT TERM

# wait_for NAME PID CMD...: until CMD succeeds, or NAME's process died.
wait_for() {
	local name=$1 pid=$2
	shift 2
	for _ in $(seq 1 300); do
		"$@" >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || die "$name exited; see $state/$name.log: $(tail -n 20 "$state/$name.log")"
		sleep 0.2
	done
	die "$name did not start in 60s; see $state/$name.log"
}

rm -rf "$state/chroma-data"
setsid e2e/node_modules/.bin/chroma run --path "$state/chroma-data" \
	--host 127.0.0.1 --port "$chroma_port" >"$state/chroma.log" 2>&1 &
pids+=($!)
wait_for chroma "$!" curl --silent --fail "http://127.0.0.1:$chroma_port/api/v2/heartbeat"

CHROMA_GATEWAY_PORT=$gateway_port CHROMA_UPSTREAM=127.0.0.1:$chroma_port CHROMA_DEMO_STATE=$state \
	XDG_DATA_HOME="$state/xdg-data" XDG_CONFIG_HOME="$state/xdg-config" \
	setsid "$gateway" run --config examples/demo.Caddyfile >"$state/gateway.log" 2>&1 &
pids+=($!)
wait_for gateway "$!" curl --silent --fail --cacert "$ca_root" "$url/api/v2/heartbeat"

collections="$url/api/v2/tenants/default_tenant/databases/default_database/collections"
token=$(grep -v '^#' examples/tokens.txt | grep -m1 .)
try=(curl --cacert "$ca_root" -u 'admin:admin:secret' "$collections")
# Prove the line works, and that it needs its credentials, before printing it.
"${try[@]}" --silent --fail >/dev/null || die "the demo curl line failed; see $state/gateway.log"
code=$(curl --silent --output /dev/null --write-out '%{http_code}' --cacert "$ca_root" "$collections")
[[ $code == 401 ]] || die "without credentials the gateway answered $code, not 401; see $state/gateway.log"
q_ca=$(printf %q "$ca_root") # printed commands survive spaces in the path

cat <<MSG

Chroma $(curl --silent --cacert "$ca_root" "$url/api/v2/version") is running behind the chroma_auth gateway.

  URL:      $url
  CA root:  $ca_root
  Try:      curl --cacert $q_ca -u 'admin:admin:secret' $collections
  or:       curl --cacert $q_ca -H 'Authorization: Bearer $token' $collections
  Without credentials you get 401 {"error":"AuthorizationError","message":"Unauthorized"}.

  Clients (examples/clients) read these settings; in another terminal, from $(printf %q "$root"):
    export CHROMA_URL=$url CHROMA_CA_CERT=$q_ca NODE_EXTRA_CA_CERTS=$q_ca
    export CHROMA_USER=admin CHROMA_PASSWORD='admin:secret'
  then run:
    examples/clients/curl.sh
    (cd examples/clients/go && go run .)

  Python (pip install chromadb==1.5.9, the client the tests run; scripts/py-deps.sh 1.5 puts it in e2e/.venv-1.5):
    import chromadb
    from chromadb.config import Settings
    client = chromadb.HttpClient(host="localhost", port=$gateway_port, ssl=True, settings=Settings(
        chroma_server_ssl_verify="$ca_root",
        chroma_client_auth_provider="chromadb.auth.basic_authn.BasicAuthClientProvider",
        chroma_client_auth_credentials="admin:admin:secret"))

  Logs:     $state/chroma.log, $state/gateway.log

Ctrl-C stops both.
MSG

# Until Ctrl-C, or until one of them dies.
set +e
wait -n "${pids[@]}"
die "a process exited; see $state/chroma.log and $state/gateway.log"
