#!/usr/bin/env bash
# bench/run.sh: what chroma_auth costs per request, measured in one run
# against plain Caddy reverse_proxy, Caddy's own basic_auth and nginx
# auth_basic, all in front of the same small upstream on loopback.
#
#   bench/run.sh              # full run (a few minutes); updates BENCHMARKS.md
#                             # and bench/ratios.svg
#   bench/run.sh profile      # only the CPU profiles of B, C and D under load
#                             # (Caddy's admin /debug/pprof, on loopback)
#   bench/run.sh callgrind    # only the instructions per request (valgrind)
#                             # of A B C D and the Caddy path gateways
#   bench/run.sh paths        # only the paths of bench/paths.sh (JWTs beside
#                             # oauth2-proxy and Apache mod_auth_openidc, API
#                             # key, scoped by id, audit, quotas, listing, rows);
#                             # CALLGRIND=1 adds their instructions per request
#
# Knobs (environment): DURATION (s per wrk run, 6), CONNS (32), THREADS (1),
# ROUNDS (4 rounds of A B C D E), USER_ROUNDS (2), WRONG_DURATION (5),
# PROF_DURATION (10), CG_REQUESTS (1000), BCRYPT_COST (5: htpasswd -B's
# default, what Chroma's docs make), OUT (bench/out); SCALE=0, PROFILE=0,
# CALLGRIND=0 skip the Go benchmarks, the CPU profiles, the instruction
# counts; PATHS=0 skips bench/paths.sh; OAUTH2_PROXY_VERSION (v7.15.6);
# NO_UPDATE=1 leaves BENCHMARKS.md and the chart alone; PORT_BASE (18000)
# moves every port (two runs side by side, each with its own OUT). Callgrind:
# CG_REQUESTS, CG_ROUNDS (2), CG_KEYS (the gateways to count, e.g.
# "A JH AQ RW"), CG_KEEP=1 keeps each count's profile as $OUT/cg-KEY.out,
# CG_DUMP_INSTR=1 records it per instruction (callgrind_annotate),
# CG_GOMAXPROCS (1: valgrind runs one thread at a time anyway, and idle
# Ps spinning for work made counts of the same gateway differ by 3 %
# between runs; with 1, by about 1 %).
#
# A step this machine cannot run (a tool apt-get could not install,
# valgrind failing on this CPU, no pprof endpoint) is skipped, not fatal:
# it goes to $OUT/skipped.tsv with the reason, the report lists it under
# "Not measured on this machine", and every other figure is still written.
#
# Gateways, all on 127.0.0.1, each its own process, all started at once and
# loaded one at a time in alternating rounds (A B C D E, A B C D E, ...):
#   A  Caddy reverse_proxy alone (the limit)
#   B  Caddy + chroma_auth basic (bcrypt htpasswd)
#   C  Caddy + chroma_auth token (Authorization: Bearer)
#   D  Caddy + basic_auth (same bcrypt hashes)
#   E  nginx auth_basic (same htpasswd file; bcrypt through libc crypt)
# Admin API off, logs at error (nginx: crit, access log off), plain HTTP.
# Every load goes to loopback only, and every run is bounded by DURATION.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH="$ROOT/bench"
OUT=${OUT:-$BENCH/out}
DURATION=${DURATION:-6}
CONNS=${CONNS:-32}
THREADS=${THREADS:-1}
ROUNDS=${ROUNDS:-4}
USER_ROUNDS=${USER_ROUNDS:-2}
WRONG_DURATION=${WRONG_DURATION:-5}
PROF_DURATION=${PROF_DURATION:-10}
BCRYPT_COST=${BCRYPT_COST:-5}
MODE=${1:-run}
OAUTH2_PROXY_VERSION=${OAUTH2_PROXY_VERSION:-v7.15.6}

HOST=127.0.0.1
# PORT_BASE (18000) shifts every port the run listens on, so that two
# runs (two worktrees, each its own OUT) can measure side by side.
P0=${PORT_BASE:-18000}
UP_PORT=$((P0 + 0))
declare -A PORT=([A]=$((P0 + 81)) [B]=$((P0 + 82)) [C]=$((P0 + 83)) [D]=$((P0 + 84)) [E]=$((P0 + 85)))
declare -A NAME=(
	[A]="Caddy reverse_proxy (baseline)"
	[B]="Caddy + chroma_auth basic"
	[C]="Caddy + chroma_auth token"
	[D]="Caddy basic_auth"
	[E]="nginx auth_basic"
)
GATEWAYS=(A B C D E)
# An authenticated Chroma route (not a public one such as the heartbeat,
# which chroma_auth lets through without a check).
ROUTE=/api/v2/tenants/default_tenant/databases/default_database/collections_count
PUBLIC_ROUTE=/api/v2/heartbeat
USER=bench
PASS=bench-secret-1
TOKEN=ck-bench-0123456789abcdef0123456789abcdef

log() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() {
	log "FAIL: $*"
	exit 1
}
# skip STEP WHY: STEP is not measured on this machine, for reason WHY.
skip() {
	log "SKIPPED $1: $2"
	printf '%s\t%s\n' "$1" "$(tr '\t\n' '  ' <<<"$2" | sed 's/ *$//')" >>"$OUT/skipped.tsv"
}

command -v go >/dev/null || die "go is needed"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -rf "$OUT/run" && mkdir -p "$OUT/run"
RUN="$OUT/run"
: >"$OUT/skipped.tsv"

# --- tools -------------------------------------------------------------
# apt_install PACKAGE...: with apt-get, as root or through sudo; false
# (and the reason in $RUN/apt.log) when that is not possible here.
APT_UPDATED=
apt_install() {
	local sudo=
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null && sudo -n true 2>/dev/null || { echo "not root, and no password-less sudo" >"$RUN/apt.log"; return 1; }
		sudo=sudo
	fi
	command -v apt-get >/dev/null || { echo "no apt-get on this system" >"$RUN/apt.log"; return 1; }
	log "installing $* with apt-get"
	if [ -z "$APT_UPDATED" ]; then
		$sudo apt-get update -qq >"$RUN/apt.log" 2>&1 || return 1
		APT_UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >>"$RUN/apt.log" 2>&1
}
# why_missing TOOL: why TOOL is not here, for skipped.tsv.
why_missing() {
	local last
	last=$(grep -v '^[[:space:]]*$' "$RUN/apt.log" 2>/dev/null | tail -n 1 || true)
	echo "$1 is not on PATH, and apt-get did not put it there${last:+: $last}"
}
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx)
command -v htpasswd >/dev/null || need+=(apache2-utils)
command -v curl >/dev/null || need+=(curl)
for pkg in "${need[@]}"; do apt_install "$pkg" || true; done
command -v curl >/dev/null || die "$(why_missing curl)"
# nginx's workers drop to user nobody: they must be able to read the
# htpasswd file and its folders.
chmod 755 "$OUT" "$RUN"

log "building cmd/caddy and the upstream"
(cd "$ROOT" && go build -o "$OUT/caddy" ./cmd/caddy && go build -o "$OUT/upstream" ./bench/cmd/upstream && go build -o "$OUT/benchreport" ./bench/cmd/benchreport)

# --- processes ---------------------------------------------------------
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

declare -A PID
start() { # start KEY cmd...
	local key=$1
	shift
	"$@" >"$RUN/$key.stdout" 2>"$RUN/$key.stderr" &
	PID[$key]=$!
	PIDS+=($!)
}

# wait_port PORT KEY [TRIES of 0.1 s]: until KEY answers on PORT; false,
# with the reason in WAIT_ERR, if it exits or does not answer in time.
WAIT_ERR=
wait_port() {
	local i
	for i in $(seq 1 "${3:-100}"); do
		if curl -s -o /dev/null --max-time 1 "http://$HOST:$1/"; then return 0; fi
		if ! kill -0 "${PID[$2]}" 2>/dev/null; then
			WAIT_ERR="$2 exited: $(grep -v '^GODEBUG sys/cpu' "$RUN/$2.stderr" | tail -n 3)"
			return 1
		fi
		sleep 0.1
	done
	WAIT_ERR="$2 did not listen on $HOST:$1"
	return 1
}
must_wait_port() { wait_port "$@" || { cat "$RUN/$2.stderr" >&2; die "$WAIT_ERR"; }; }

# --- credentials -------------------------------------------------------
# make_credentials and write_configs are not indented: their
# here-documents end at column 0.
basic() { printf 'Basic %s' "$(printf '%s:%s' "$1" "$2" | base64 -w0)"; }
make_credentials() {
log "making credentials (bcrypt cost $BCRYPT_COST)"
htpasswd -nbB -C "$BCRYPT_COST" "$USER" "$PASS" >"$RUN/htpasswd"
AUTH_BASIC=$(basic "$USER" "$PASS")
AUTH_TOKEN="Bearer $TOKEN"
# 100 more users and tokens for the "100 distinct users" run. Hashing 100
# bcrypt hashes takes a few seconds, in parallel on both cores.
NUSERS=100
: >"$RUN/users.txt"
for i in $(seq -w 1 $NUSERS); do printf 'user%s pw-%s-%s\n' "$i" "$i" "$RANDOM$RANDOM" >>"$RUN/users.txt"; done
while read -r u p; do printf '%s\0%s\0' "$u" "$p"; done <"$RUN/users.txt" |
	xargs -0 -n2 -P2 sh -c 'htpasswd -nbB -C "$0" "$1" "$2" | head -1' "$BCRYPT_COST" >>"$RUN/htpasswd"
sed -i '/^$/d' "$RUN/htpasswd"
[ "$(wc -l <"$RUN/htpasswd")" = $((NUSERS + 1)) ] || die "htpasswd has $(wc -l <"$RUN/htpasswd") lines"
chmod 644 "$RUN/htpasswd"
: >"$RUN/tokens.txt"
for i in $(seq -w 1 $NUSERS); do printf 'ck-user%s-%s%s%s\n' "$i" "$RANDOM" "$RANDOM" "$RANDOM" >>"$RUN/tokens.txt"; done

# Lua: the report line every wrk run prints, status codes counted when
# the scenario asks for them.
cat >"$RUN/report.lua" <<'EOF'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function done(summary, latency, requests)
  local agg = {}
  for _, t in ipairs(threads) do
    local c = t:get("codes")
    if type(c) == "table" then
      for k, v in pairs(c) do agg[k] = (agg[k] or 0) + v end
    end
  end
  local cs = {}
  for k, v in pairs(agg) do table.insert(cs, k .. ":" .. v) end
  table.sort(cs)
  io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d non2xx=%d errors=%d codes=%s\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    #cs > 0 and table.concat(cs, ",") or "-"))
end
EOF
cat >"$RUN/codes.lua" <<'EOF'
codes = {}
function response(status, headers, body) codes[status] = (codes[status] or 0) + 1 end
EOF
# rotate.lua AUTH-LINES-FILE: every request carries the next header of the
# list, each thread starting at its own offset.
rotate_lua() {
	{
		echo 'local auths = {'
		sed 's/.*/  "&",/' "$1"
		echo '}'
		cat <<'EOF'
local i = 0
function init(args) i = math.random(#auths) end
function request()
  i = i % #auths + 1
  return wrk.format(nil, nil, { ["Authorization"] = auths[i] })
end
EOF
		cat "$RUN/report.lua" "$RUN/codes.lua"
	} >"$2"
}
while read -r u p; do basic "$u" "$p"; echo; done <"$RUN/users.txt" >"$RUN/users.auth"
sed 's/^/Bearer /' "$RUN/tokens.txt" >"$RUN/tokens.auth"
rotate_lua "$RUN/users.auth" "$RUN/users.lua"
rotate_lua "$RUN/tokens.auth" "$RUN/tokens.lua"
# Wrong passwords: every request a different password, so that no gateway
# can answer it from a cache of earlier answers.
for i in $(seq 1 2000); do basic "$USER" "wrong-$i-$RANDOM"; echo; done >"$RUN/wrong.auth"
for i in $(seq 1 2000); do echo "Bearer ck-wrong-$i-$RANDOM$RANDOM"; done >"$RUN/wrongtok.auth"
rotate_lua "$RUN/wrong.auth" "$RUN/wrong.lua"
rotate_lua "$RUN/wrongtok.auth" "$RUN/wrongtok.lua"
cat "$RUN/report.lua" >"$RUN/plain.lua"
}

# --- configs -------------------------------------------------------------
write_configs() {
caddy_global() {
	cat <<EOF
{
	admin ${1:-off}
	auto_https off
	persist_config off
	log {
		level ERROR
	}
}
EOF
}
caddy_site() { # caddy_site KEY AUTH-BLOCK
	cat <<EOF
http://$HOST:${PORT[$1]} {
	bind $HOST
$2
	reverse_proxy $UP_PORT_ADDR
}
EOF
}
UP_PORT_ADDR=$HOST:$UP_PORT
{
	caddy_global
	caddy_site A ""
} >"$RUN/A.Caddyfile"
{
	caddy_global
	caddy_site B "	chroma_auth {
		basic $RUN/htpasswd
	}"
} >"$RUN/B.Caddyfile"
{
	caddy_global
	caddy_site C "	chroma_auth {
		token $TOKEN
		token_file $RUN/tokens.txt
		token_header Authorization
	}"
} >"$RUN/C.Caddyfile"
{
	caddy_global
	printf '\tbasic_auth {\n' >"$RUN/D.users"
	awk -F: '{printf "\t\t%s %s\n", $1, $2}' "$RUN/htpasswd" >>"$RUN/D.users"
	printf '\t}\n' >>"$RUN/D.users"
	caddy_site D "$(cat "$RUN/D.users")"
} >"$RUN/D.Caddyfile"
mkdir -p "$RUN/nginx"
cat >"$RUN/nginx/nginx.conf" <<EOF
worker_processes 2;
error_log $RUN/nginx/error.log crit;
pid $RUN/nginx/nginx.pid;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $RUN/nginx/body;
	proxy_temp_path $RUN/nginx/proxy;
	fastcgi_temp_path $RUN/nginx/fastcgi;
	uwsgi_temp_path $RUN/nginx/uwsgi;
	scgi_temp_path $RUN/nginx/scgi;
	upstream chroma { server $HOST:$UP_PORT; keepalive 64; }
	server {
		listen $HOST:${PORT[E]};
		location / {
			auth_basic "Chroma";
			auth_basic_user_file $RUN/htpasswd;
			proxy_pass http://chroma;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_set_header Authorization "";
		}
	}
}
EOF

}

start_all() {
	start UP "$OUT/upstream" -addr "$HOST:$UP_PORT"
	local k
	for k in A B C D; do
		"$OUT/caddy" validate --config "$RUN/$k.Caddyfile" --adapter caddyfile >"$RUN/$k.validate" 2>&1 ||
			{ cat "$RUN/$k.validate" >&2; die "config $k does not validate"; }
		start "$k" "$OUT/caddy" run --config "$RUN/$k.Caddyfile" --adapter caddyfile
	done
	for k in A B C D; do must_wait_port "${PORT[$k]}" "$k"; done
	[[ " ${GATEWAYS[*]} " == *" E "* ]] || return 0
	start E nginx -p "$RUN/nginx" -c "$RUN/nginx/nginx.conf" -e "$RUN/nginx/error.log" -g 'daemon off;'
	if ! wait_port "${PORT[E]}" E; then
		skip "nginx auth_basic (E)" "nginx did not start here: $WAIT_ERR $(tail -n 2 "$RUN/nginx/error.log" 2>/dev/null)"
		GATEWAYS=(A B C D)
	fi
}

status() { # status KEY AUTH [PATH]
	curl -s -o /dev/null -w '%{http_code}' --max-time 20 ${2:+-H "Authorization: $2"} "http://$HOST:${PORT[$1]}${3:-$ROUTE}"
}

auth_of() { # the one-user credential of a gateway
	case $1 in
	C) echo "$AUTH_TOKEN" ;;
	*) echo "$AUTH_BASIC" ;;
	esac
}

sanity() {
	local k want got
	for k in "${GATEWAYS[@]}"; do
		got=$(status "$k" "$(auth_of "$k")")
		[ "$got" = 200 ] || die "$k (${NAME[$k]}): valid credential answered $got"
		# The upstream marks responses to requests that still carried a
		# credential: chroma_auth and our nginx config strip it.
		if [ "$k" = B ] || [ "$k" = C ] || [ "$k" = E ]; then
			if curl -s -D - -o /dev/null -H "Authorization: $(auth_of "$k")" "http://$HOST:${PORT[$k]}$ROUTE" | grep -qi '^X-Upstream-Saw-Credentials'; then
				die "$k forwarded the credential upstream"
			fi
		fi
		[ "$k" = A ] && continue
		want=401
		got=$(status "$k" "")
		[ "$got" = $want ] || die "$k: no credential answered $got, want $want"
		got=$(status "$k" "$(basic "$USER" nope)")
		[ "$k" = C ] && got=$(status "$k" "Bearer nope-nope")
		[ "$got" = $want ] || die "$k: wrong credential answered $got, want $want"
	done
	log "sanity: every gateway answers 200 to the valid credential and 401 to none or a wrong one"
}

# cpu_ticks PID: user+system CPU of the process and its children (nginx's
# workers), in clock ticks. CPU per request is what the gateway itself
# spends, and is far less disturbed than req/s by whatever else the
# machine runs.
cpu_ticks() {
	local p total=0 v
	for p in "$1" $(pgrep -P "$1" || true); do
		v=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
		total=$((total + ${v:-0}))
	done
	echo "$total"
}

# wrk_run SCENARIO KEY ROUND SCRIPT DURATION [AUTH [PATH]]
wrk_run() {
	local sc=$1 k=$2 round=$3 script=$4 dur=$5 auth=${6:-} path=${7:-$ROUTE} line c0 c1
	local args=(-t"$THREADS" -c"$CONNS" -d"${dur}s" --timeout 5s -s "$script")
	[ -n "$auth" ] && args+=(-H "Authorization: $auth")
	c0=$(cpu_ticks "${PID[$k]}")
	wrk "${args[@]}" "http://$HOST:${PORT[$k]}$path" >"$RUN/wrk-$sc-$k-$round.txt" 2>&1 || true
	c1=$(cpu_ticks "${PID[$k]}")
	line=$(grep '^RESULT' "$RUN/wrk-$sc-$k-$round.txt" || true)
	[ -n "$line" ] || { cat "$RUN/wrk-$sc-$k-$round.txt" >&2; die "wrk printed no result for $sc $k"; }
	printf '%s\t%s\t%s\t%s cpu_ticks=%s\n' "$sc" "$k" "$round" "$line" $((c1 - c0)) >>"$OUT/runs.tsv"
	log "$sc $k round $round: $(awk '{print $2, $4, $5}' <<<"$line" | tr -d '\n') $(sed -n 's/.*\(codes=[^ ]*\).*/\1/p' <<<"$line")"
}

peak_rss_kb() { # VmHWM of the process and its children (nginx's workers)
	local p total=0 v
	for p in "$1" $(pgrep -P "$1" || true); do
		v=$(awk '/^VmHWM:/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
		total=$((total + ${v:-0}))
	done
	echo "$total"
}

# --- in-process profile ----------------------------------------------------
# profile_share KEY FOCUS AUTH: a copy of gateway KEY with Caddy's admin
# endpoint on loopback, loaded for DURATION while /debug/pprof/profile
# samples it. The share of its CPU samples that are in the auth handler's own
# code (FOCUS) and not in reverse_proxy (which the handler calls as `next`)
# is the handler's cost, measured inside the process: unlike req/s, it is
# hardly moved by other work on the machine. Garbage collection of the
# handler's allocations runs elsewhere and is not in it.
PROF_PORT=$((P0 + 87))
PROF_ADMIN=$HOST:2999
profile_share() {
	local k=$1 focus=$2 auth=$3 pk=${1}prof cp share
	sed "s/^\tadmin off/\tadmin $PROF_ADMIN/; s/:${PORT[$k]} {/:$PROF_PORT {/" "$RUN/$k.Caddyfile" >"$RUN/$pk.Caddyfile"
	PORT[$pk]=$PROF_PORT
	start "$pk" "$OUT/caddy" run --config "$RUN/$pk.Caddyfile" --adapter caddyfile
	must_wait_port "$PROF_PORT" "$pk"
	wrk_run profwarm "$pk" 0 "$RUN/plain.lua" 2 "$auth"
	curl -s -o "$OUT/cpu-$k.pb.gz" "http://$PROF_ADMIN/debug/pprof/profile?seconds=$((PROF_DURATION - 1))" &
	cp=$!
	wrk_run profile "$pk" 1 "$RUN/plain.lua" "$PROF_DURATION" "$auth"
	wait "$cp" || true
	curl -s -o "$OUT/allocs-$k.pb.gz" "http://$PROF_ADMIN/debug/pprof/allocs" || true
	kill "${PID[$pk]}" 2>/dev/null || true
	wait "${PID[$pk]}" 2>/dev/null || true
	if ! go tool pprof -top -nodecount=40 "$OUT/caddy" "$OUT/cpu-$k.pb.gz" >"$OUT/cpu-$k-top.txt" 2>"$RUN/pprof-$k.err"; then
		skip "CPU profile of $k" "no profile from Caddy's /debug/pprof/profile: $(tail -n 1 "$RUN/pprof-$k.err")"
		return 0
	fi
	go tool pprof -top -nodefraction=0 -nodecount=100000 -focus "$focus" -ignore 'reverseproxy' "$OUT/caddy" "$OUT/cpu-$k.pb.gz" >"$OUT/cpu-$k-own.txt" 2>/dev/null || true
	share=$(sed -n 's/^Showing nodes accounting for \([^,]*\), \([0-9.]*\)% of \(.*\) total$/\2\t\1\t\3/p' "$OUT/cpu-$k-own.txt" | head -1)
	[ -n "$share" ] || share=$(printf '0\t0s\t%s' "$(sed -n 's/.*Total samples = \([^ ]*\).*/\1/p' "$OUT/cpu-$k-top.txt")")
	printf '%s\t%s\n' "$k" "$share" >>"$OUT/share.tsv"
	log "profile $k: the handler's own code is $(cut -f1 <<<"$share") % of the gateway's CPU samples"
}

# --- instructions per request (callgrind) ------------------------------------
# callgrind_cost KEY AUTH: a copy of gateway KEY under valgrind's callgrind,
# which counts the instructions the process executes: nearly the same count
# for the same binary and requests whatever else the machine runs. What
# varies is the runtime's background work (sysmon, timers), which follows the
# wall clock, not the requests: it only adds, so the smaller of the two
# rounds is the better figure. After a warm-up
# (credential cached), counting is switched on for CG_REQUESTS requests made
# one after another on one keep-alive connection (curl), then dumped. It
# counts user-space instructions only: the kernel's share of a proxied
# request (the socket calls) is not in it, so the handler's share of
# instructions is an upper bound of its share of time. GOGC=off: no garbage
# collection runs during the count (a few MB of garbage), so that the count
# does not depend on where GC cycles fall; the cost of allocating is still
# in it, the cost of collecting is not. GODEBUG: asyncpreemptoff=1, as
# callgrind cannot follow Go's preemption signals (it asserts in
# vgCallgrind_post_signal); cpu.rdtscp=off, as the CPU valgrind presents
# may claim RDTSCP where valgrind cannot run it on this host (SIGILL in
# runtime.cputicks; golang.org/x/sys/cpu warns once that it does not know
# the option, which is harmless).
CG_PORT=$((P0 + 88))
CG_REQUESTS=${CG_REQUESTS:-1000}
CG_GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off
# callgrind_cost KEY AUTH: false, with the reason in CG_ERR, when the run
# gives no count.
CG_ERR=
callgrind_cost() { # callgrind_cost KEY AUTH [ROUTE [BODY-FILE [GATEWAY]]]
	local k=$1 auth=$2 route=${3:-$ROUTE} body=${4:-} gw=${5:-$1} ck=${1}cg f total codes
	local req=(-s -o /dev/null)
	[ -n "$auth" ] && req+=(-H "Authorization: $auth")
	# A body (a query) is POSTed, the same one on every request.
	[ -n "$body" ] && req+=(-H 'Content-Type: application/json' --data-binary "@$body")
	sed "s/:${PORT[$gw]} {/:$CG_PORT {/" "$RUN/$gw.Caddyfile" >"$RUN/$ck.Caddyfile"
	PORT[$ck]=$CG_PORT
	rm -f "$RUN/cg-$k".out*
	GOGC=off GODEBUG=$CG_GODEBUG GOMAXPROCS=${CG_GOMAXPROCS:-1} start "$ck" valgrind --tool=callgrind --instr-atstart=no ${CG_DUMP_INSTR:+--dump-instr=yes} \
		--callgrind-out-file="$RUN/cg-$k.out" "$OUT/caddy" run --config "$RUN/$ck.Caddyfile" --adapter caddyfile
	if ! wait_port "$CG_PORT" "$ck" 600; then
		CG_ERR="gateway $k under callgrind: $WAIT_ERR"
		return 1
	fi
	curl "${req[@]}" "http://$HOST:$CG_PORT$route?warm=[1-200]" || true
	if callgrind_control -i on "${PID[$ck]}" >"$RUN/$ck.control" 2>&1; then
		codes=$(curl "${req[@]}" -w '%{http_code}\n' "http://$HOST:$CG_PORT$route?i=[1-$CG_REQUESTS]" | sort | uniq -c | tr -s ' ' | tr '\n' ' ')
		callgrind_control -d "${PID[$ck]}" >>"$RUN/$ck.control" 2>&1 || true
	fi
	kill "${PID[$ck]}" 2>/dev/null || true
	wait "${PID[$ck]}" 2>/dev/null || true
	f=$(ls "$RUN/cg-$k.out".* 2>/dev/null | head -1)
	total=
	if [ -n "$f" ]; then total=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$f" | head -1); fi
	if [ -z "$total" ]; then
		CG_ERR="callgrind gave no count for $k: $(cat "$RUN/$ck.control" <(grep -v '^GODEBUG sys/cpu' "$RUN/$ck.stderr") | grep -m3 -i 'sigill\|unhandled\|assert\|error')"
		return 1
	fi
	[ "$codes" = " $CG_REQUESTS 200 " ] || die "callgrind run of $k: answers $codes"
	[ -z "${CG_KEEP:-}" ] || cp "$f" "$OUT/cg-$k.out"
	printf '%s\t%s\t%s\n' "$k" "$CG_REQUESTS" "$total" >>"$OUT/callgrind.tsv"
	log "callgrind $k: $((total / CG_REQUESTS)) instructions per request"
}

# callgrind_probe: why callgrind cannot count the gateway here, or nothing.
callgrind_probe() {
	if ! command -v valgrind >/dev/null || ! command -v callgrind_control >/dev/null; then
		apt_install valgrind || { why_missing valgrind; return; }
	fi
	local out=$RUN/callgrind-probe.txt
	if ! GOGC=off GODEBUG=$CG_GODEBUG timeout 300 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
		"$OUT/caddy" version >"$out" 2>&1; then
		echo "$(valgrind --version) cannot run the gateway on this machine (GODEBUG=$CG_GODEBUG): $(grep -m3 -i 'sigill\|unhandled\|assert\|illegal\|error' "$out" | tr '\n' ' ')"
	fi
}

# cg_wanted KEY: KEY is one of CG_KEYS (every key when CG_KEYS is unset).
cg_wanted() { [ -z "${CG_KEYS:-}" ] || [[ " $CG_KEYS " == *" $1 "* ]]; }

# callgrind_all: CG_ROUNDS rounds (2) of A B C D, then of every path
# gateway on its own route, each against its baseline in the same run: A
# on the token route; AL, A on the listing of 1,000 collections (L's
# baseline); AQ, A on the query with its body (QC's and RW's); AS, A on
# S's route (a collection by id); AJH AJE
# AJR, A given each JWT's header. CG_KEYS ("A JH AQ RW") counts only those.
callgrind_all() {
	local why r k base
	why=$(callgrind_probe)
	if [ -n "$why" ]; then
		skip "instructions per request (callgrind)" "$why"
		return 0
	fi
	for r in $(seq 1 "${CG_ROUNDS:-2}"); do
		for k in A B C D; do
			cg_wanted "$k" || continue
			# A gets the same header to parse as B and D, and forwards it.
			if ! callgrind_cost "$k" "$(auth_of "$k")"; then
				skip "instructions per request (callgrind)" "$CG_ERR"
				return 0
			fi
		done
		# The baselines of the listing and the query: A on the same route
		# and body.
		if [ -n "${AUTH_OF_PATH[L]:-}" ] && cg_wanted AL; then
			callgrind_cost AL "$AUTH_TOKEN" "$LISTING_ROUTE" "" A || skip "instructions per request of AL (callgrind)" "$CG_ERR"
		fi
		if [ -n "${AUTH_OF_PATH[QC]:-}${AUTH_OF_PATH[RW]:-}" ] && cg_wanted AQ; then
			callgrind_cost AQ "$AUTH_TOKEN" "$QUERY_ROUTE" "$RUN/query.json" A || skip "instructions per request of AQ (callgrind)" "$CG_ERR"
		fi
		# A on S's route, a collection by id: a longer path to parse and
		# forward than the token route's.
		if [ -n "${AUTH_OF_PATH[S]:-}" ] && cg_wanted AS; then
			callgrind_cost AS "$AUTH_TOKEN" "$SCOPED_ROUTE" "" A || skip "instructions per request of AS (callgrind)" "$CG_ERR"
		fi
		# A given each JWT's own Authorization header: net/http's parse of
		# a long header is not the handler's.
		for k in JH JE JR; do
			[ -n "${AUTH_OF_PATH[$k]:-}" ] && cg_wanted "A$k" || continue
			callgrind_cost "A$k" "${AUTH_OF_PATH[$k]}" "$ROUTE" "" A || skip "instructions per request of A$k (callgrind)" "$CG_ERR"
		done
		# The Caddy path gateways on their own routes (S's count route
		# answers the same body as A's token route).
		for k in "${PATH_KEYS[@]}"; do
			case $k in J* | K | S | U | UL | AU | Q | L | QC | RW) ;; *) continue ;; esac
			cg_wanted "$k" || continue
			base=
			case $k in QC | RW) base=$RUN/query.json ;; esac
			callgrind_cost "$k" "${AUTH_OF_PATH[$k]}" "${ROUTE_OF[$k]}" "$base" || skip "instructions per request of $k (callgrind)" "$CG_ERR"
		done
	done
}

# shellcheck source=bench/paths.sh
. "$BENCH/paths.sh"

# What this machine lacks decides which steps run.
GW_WHY= # why no gateway can run: nothing to make the bcrypt htpasswd file with
command -v htpasswd >/dev/null || GW_WHY="$(why_missing htpasswd) (package apache2-utils): no bcrypt htpasswd file for the gateways"
WRK_WHY=
command -v wrk >/dev/null || WRK_WHY=$(why_missing wrk)
if ! command -v nginx >/dev/null; then
	GATEWAYS=(A B C D)
	NGINX_WHY=$(why_missing nginx)
fi
has_gateway() { [[ " ${GATEWAYS[*]} " == *" $1 "* ]]; }

if [ "$MODE" != run ]; then
	[ -z "$GW_WHY" ] || die "$GW_WHY"
	make_credentials
	write_configs
	start UP "$OUT/upstream" -addr "$HOST:$UP_PORT"
	must_wait_port "$UP_PORT" UP
fi
if [ "$MODE" = paths ]; then
	[ -z "$WRK_WHY" ] || die "$WRK_WHY"
	: >"$OUT/runs.tsv"
	: >"$OUT/first.tsv"
	: >"$OUT/rss.tsv"
	printf 'date\t%s\nconns\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" "$CONNS" >"$OUT/meta.tsv"
	start A "$OUT/caddy" run --config "$RUN/A.Caddyfile" --adapter caddyfile
	must_wait_port "${PORT[A]}" A
	paths_start
	paths_load
	# CALLGRIND=1: the instructions per request of A and every path (not
	# B C D) in the same run; CG_KEYS narrows them further.
	: >"$OUT/callgrind.tsv"
	if [ "${CALLGRIND:-0}" = 1 ]; then CG_KEYS=${CG_KEYS:-A C AL AQ AS AJH AJE AJR ${PATH_KEYS[*]}} callgrind_all; fi
	"$OUT/benchreport" -out "$OUT"
	cat "$OUT/results.md"
	exit 0
fi
if [ "$MODE" = callgrind ]; then
	: >"$OUT/callgrind.tsv"
	# The Caddy path gateways only: the peers are not counted.
	if [ "${PATHS:-1}" = 1 ]; then PATH_STEPS="paths_jwt paths_key paths_scoped paths_audit paths_accesslog paths_quota paths_rows" paths_start; fi
	callgrind_all
	cat "$OUT/callgrind.tsv" "$OUT/skipped.tsv"
	exit 0
fi
if [ "$MODE" = profile ]; then
	[ -z "$WRK_WHY" ] || die "$WRK_WHY"
	: >"$OUT/runs.tsv"
	: >"$OUT/share.tsv"
	profile_share B 'caddy-chroma-auth' "$AUTH_BASIC"
	profile_share C 'caddy-chroma-auth' "$AUTH_TOKEN"
	profile_share D 'caddyauth' "$AUTH_BASIC"
	log "profiles in $OUT: cpu-*.pb.gz, allocs-*.pb.gz, cpu-*-top.txt, cpu-*-own.txt"
	exit 0
fi
[ "$MODE" = run ] || die "unknown mode $MODE: run (the default), profile, callgrind or paths"

# --- the run ---------------------------------------------------------------
{
	printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
	printf 'nproc\t%s\n' "$(nproc)"
	printf 'cpu\t%s\n' "$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
	printf 'mem\t%s\n' "$(free -g | awk '/^Mem:/{print $2 " GiB"}')"
	printf 'kernel\t%s\n' "$(uname -r)"
	printf 'go\t%s\n' "$(go version | awk '{print $3}')"
	printf 'caddy\t%s\n' "$("$OUT/caddy" version | awk '{print $1}')"
	printf 'nginx\t%s\n' "$(if has_gateway E; then nginx -v 2>&1 | sed 's/.*nginx\///'; else echo 'not installed'; fi)"
	printf 'wrk\t%s\n' "$(if [ -z "$WRK_WHY" ]; then wrk -v 2>&1 | head -1 | awk '{print $2}'; else echo 'not installed'; fi)"
	printf 'commit\t%s\n' "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
	printf 'command\t%s\n' "bench/run.sh (DURATION=$DURATION CONNS=$CONNS THREADS=$THREADS ROUNDS=$ROUNDS USER_ROUNDS=$USER_ROUNDS WRONG_DURATION=$WRONG_DURATION PROF_DURATION=$PROF_DURATION BCRYPT_COST=$BCRYPT_COST)"
	printf 'load_before\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
	printf 'route\t%s\n' "$ROUTE"
	printf 'clk_tck\t%s\n' "$(getconf CLK_TCK)"
	printf 'bcrypt_cost\t%s\n' "$BCRYPT_COST"
	printf 'conns\t%s\n' "$CONNS"
} >"$OUT/meta.tsv"
: >"$OUT/runs.tsv"
: >"$OUT/first.tsv"
: >"$OUT/scale.txt"
: >"$OUT/share.tsv"
: >"$OUT/callgrind.tsv"
: >"$OUT/rss.tsv"

if [ "${SCALE:-1}" = 1 ]; then
	log "Go benchmarks: the handler's hot path, and loading 100,000 users and 100,000 tokens"
	# The handler benchmarks are the project's own (root package), when
	# present; the scale ones are bench/scale_test.go.
	if grep -qs '^func BenchmarkHandler(' "$ROOT"/*_test.go; then
		(cd "$ROOT" && go test -run '^$' -bench '^BenchmarkHandler$' -benchmem .) >"$OUT/scale.txt" 2>&1 ||
			{ cat "$OUT/scale.txt" >&2; die "handler benchmarks failed"; }
	fi
	(cd "$ROOT" && go test -run '^$' -bench . -benchmem ./bench) >>"$OUT/scale.txt" 2>&1 ||
		{ cat "$OUT/scale.txt" >&2; die "scale benchmarks failed"; }
	grep '^Benchmark' "$OUT/scale.txt" >&2
fi

# gateway_runs: everything measured through the gateways.
gateway_runs() {
	local k r
	make_credentials
	write_configs
	[ -z "${NGINX_WHY:-}" ] || skip "nginx auth_basic (E)" "$NGINX_WHY"
	log "starting the upstream and the gateways (${GATEWAYS[*]}) on $HOST"
	start_all
	sanity

	# First request of a new credential (one bcrypt), then the same
	# credential again (cached), for each of the 100 users: also warms the
	# caches for the 100-user run. curl's time_total, one request at a time,
	# nothing else running.
	log "first request of a new credential, 100 users x (B D E)"
	for k in B D E; do
		has_gateway "$k" || continue
		while read -r u p; do
			a=$(basic "$u" "$p")
			t1=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "Authorization: $a" "http://$HOST:${PORT[$k]}$ROUTE")
			t2=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "Authorization: $a" "http://$HOST:${PORT[$k]}$ROUTE")
			printf '%s\t%s\t%s\t%s\n' "$k" "$u" "$t1" "$t2" | tr ' ' '\t' >>"$OUT/first.tsv"
		done <"$RUN/users.txt"
	done
	awk -F'\t' '$3 != 200 || $5 != 200 {bad++} END {exit bad > 0}' "$OUT/first.tsv" || die "a first request was refused: see $OUT/first.tsv"

	if [ -n "$WRK_WHY" ]; then
		skip "load runs (steady state, 100 users, public route, wrong passwords) and CPU profiles" "$WRK_WHY"
	else
		load_runs
		if [ "${PATHS:-1}" = 1 ]; then
			paths_start
			paths_load
		fi
	fi

	if [ "${CALLGRIND:-1}" = 1 ]; then
		log "instructions per request under callgrind (A B C D, twice; $CG_REQUESTS requests each)"
		callgrind_all
	fi

	# Last, as chroma_auth's failure limit then holds 127.0.0.1 for a minute.
	[ -n "$WRK_WHY" ] || wrong_runs

	for k in "${GATEWAYS[@]}" B2; do
		if [ -n "${PID[$k]:-}" ]; then printf '%s\t%s\n' "$k" "$(peak_rss_kb "${PID[$k]}")" >>"$OUT/rss.tsv"; fi
	done
}

load_runs() {
	local k r
	log "warm-up: 2 s each"
	for k in "${GATEWAYS[@]}"; do wrk_run warm "$k" 0 "$RUN/plain.lua" 2 "$(auth_of "$k")"; done
	sleep 1

	log "steady state, one credential: $ROUNDS rounds of ${GATEWAYS[*]}, ${DURATION}s, $CONNS connections"
	for r in $(seq 1 "$ROUNDS"); do
		for k in "${GATEWAYS[@]}"; do
			wrk_run one "$k" "$r" "$RUN/plain.lua" "$DURATION" "$(auth_of "$k")"
			sleep 1
		done
	done

	log "100 distinct valid users: $USER_ROUNDS rounds"
	for r in $(seq 1 "$USER_ROUNDS"); do
		for k in "${GATEWAYS[@]}"; do
			case $k in
			C) wrk_run users "$k" "$r" "$RUN/tokens.lua" "$DURATION" ;;
			*) wrk_run users "$k" "$r" "$RUN/users.lua" "$DURATION" ;;
			esac
			sleep 1
		done
	done

	# Public route: chroma_auth lets the heartbeat through without a check.
	log "public route ($PUBLIC_ROUTE) through A and B, no credential"
	for r in 1 2; do
		for k in A B; do
			wrk_run public "$k" "$r" "$RUN/plain.lua" "$DURATION" "" "$PUBLIC_ROUTE"
			sleep 1
		done
	done

	if [ "${PROFILE:-1}" = 1 ]; then
		log "in-process CPU profiles (B, C, D): the auth handler's own share of the gateway's CPU"
		profile_share B 'caddy-chroma-auth' "$AUTH_BASIC"
		profile_share C 'caddy-chroma-auth' "$AUTH_TOKEN"
		profile_share D 'caddyauth' "$AUTH_BASIC"
	fi
}

wrong_runs() {
	local k
	log "a stream of wrong passwords (tokens for C), ${WRONG_DURATION}s each"
	for k in B C D E; do
		has_gateway "$k" || continue
		case $k in
		C) wrk_run wrong "$k" 1 "$RUN/wrongtok.lua" "$WRONG_DURATION" ;;
		*) wrk_run wrong "$k" 1 "$RUN/wrong.lua" "$WRONG_DURATION" ;;
		esac
		sleep 1
	done
	# The same with the failure limit off for this run: what each wrong
	# password costs when nothing stops it (bcrypt slots only).
	log "wrong passwords with failures_per_minute off (B only)"
	sed 's/^\t\tbasic .*/&\n\t\tfailures_per_minute off/' "$RUN/B.Caddyfile" >"$RUN/B2.Caddyfile"
	sed -i "s/:${PORT[B]} {/:$((P0 + 86)) {/" "$RUN/B2.Caddyfile"
	PORT[B2]=$((P0 + 86))
	NAME[B2]="Caddy + chroma_auth basic, failures_per_minute off"
	start B2 "$OUT/caddy" run --config "$RUN/B2.Caddyfile" --adapter caddyfile
	must_wait_port $((P0 + 86)) B2
	wrk_run wrong B2 1 "$RUN/wrong.lua" "$WRONG_DURATION"
}

if [ -n "$GW_WHY" ]; then
	skip "every figure through the gateways (load runs, first requests, profiles, callgrind)" "$GW_WHY"
else
	gateway_runs
fi
printf 'load_after\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.tsv"

log "report"
report_args=(-out "$OUT")
if [ -z "${NO_UPDATE:-}" ]; then report_args+=(-md "$ROOT/BENCHMARKS.md" -svg "$BENCH/ratios.svg"); fi
"$OUT/benchreport" "${report_args[@]}"
cat "$OUT/results.md"
