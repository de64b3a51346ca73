#!/usr/bin/env bash
# Installs the Python packages of the end-to-end tests into two virtual
# environments of e2e/, each from a pinned freeze file (every transitive
# dependency pinned), unless the environment already holds exactly that
# file's install: a stamp with the file's SHA-256, written after a
# successful install, says so (as node-deps.sh does for node_modules).
#
#   e2e/.venv-1.5  e2e/python/requirements-1.5.txt  chromadb 1.5.9: the
#                  Python client and the Chroma 1.5.9 server (`chroma run`)
#   e2e/.venv-0.6  e2e/python/requirements-0.6.txt  chromadb 0.6.3, the
#                  newest 0.x: the Python server with Chroma's native auth
#
# Wheels are kept in $CHROMA_AUTH_WHEELS (default
# ~/.cache/caddy-chroma-auth/wheels) and downloaded only when missing.
# `make run` and the end-to-end tests both call it. Args: which environments (default both).
set -euo pipefail

e2e=$(cd "$(dirname "${BASH_SOURCE[0]}")/../e2e" && pwd)
python=${PYTHON:-python3}
command -v "$python" >/dev/null 2>&1 ||
	{ echo "py-deps: $python is missing: install Python 3.9+ with venv (Debian: apt-get install python3 python3-venv)" >&2; exit 1; }
"$python" -c 'import sys, venv; sys.exit(sys.version_info < (3, 9))' 2>/dev/null ||
	{ echo "py-deps: $python is not Python 3.9+ with the venv module (Debian: apt-get install python3-venv)" >&2; exit 1; }

wheels=${CHROMA_AUTH_WHEELS:-${XDG_CACHE_HOME:-$HOME/.cache}/caddy-chroma-auth/wheels}
mkdir -p "$wheels"

install() {
	local name=$1 venv="$e2e/.venv-$1" req="$e2e/python/requirements-$1.txt"
	local stamp="$venv/.installed-requirements.sha256" want
	want=$(sha256sum <"$req" | cut -d' ' -f1)
	if [[ -x $venv/bin/chroma && -f $stamp && $(<"$stamp") == "$want" ]]; then
		return 0
	fi
	echo "py-deps: installing chromadb $name (pip, into e2e/.venv-$name)" >&2
	rm -rf "$venv"
	"$python" -m venv "$venv"
	# The freeze file pins every package: no resolution (--no-deps). The
	# wheels come from a wheelhouse of our own, filled from PyPI only with
	# what it lacks (pip's own HTTP cache keeps nothing when the index
	# answers no-store, as some proxies do).
	local pip=("$venv/bin/pip" --quiet --disable-pip-version-check --no-input)
	if ! "${pip[@]}" install --no-index --find-links "$wheels" --no-deps --no-compile -r "$req" >/dev/null 2>&1; then
		"${pip[@]}" download --no-deps -r "$req" -d "$wheels" >&2
		"${pip[@]}" install --no-index --find-links "$wheels" --no-deps --no-compile -r "$req" >&2
	fi
	echo "$want" >"$stamp"
}

# Both at once: pip mostly waits on the index and the disk.
pids=()
for one in ${@:-1.5 0.6}; do
	install "$one" &
	pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
