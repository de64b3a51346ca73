#!/usr/bin/env bash
# Installs the npm packages of e2e/ (the real Chroma server and the JS
# client, pinned by e2e/package-lock.json) with `npm ci`, unless
# e2e/node_modules already holds exactly that lockfile's install: a stamp
# with the lockfile's SHA-256, written after a successful `npm ci`, says so.
# `make run` and the end-to-end tests both call it.
set -euo pipefail

e2e=$(cd "$(dirname "${BASH_SOURCE[0]}")/../e2e" && pwd)
stamp="$e2e/node_modules/.installed-lock.sha256"
for tool in node npm; do
	command -v "$tool" >/dev/null 2>&1 ||
		{ echo "node-deps: $tool is missing: install Node.js 20+ and npm (Debian: apt-get install nodejs npm)" >&2; exit 1; }
done
want=$(sha256sum <"$e2e/package-lock.json" | cut -d' ' -f1)
if [[ -x $e2e/node_modules/.bin/chroma && -f $stamp && $(<"$stamp") == "$want" ]]; then
	exit 0
fi
echo "node-deps: installing the Chroma server and JS client (npm ci in e2e/)" >&2
# The packages come from npm's cache when it has them.
(cd "$e2e" && npm ci --no-audit --no-fund --prefer-offline >&2)
echo "$want" >"$stamp"
