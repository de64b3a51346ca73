#!/usr/bin/env bash
# Makes sure redis-server is installed, for the tests of shared_state: the
# Debian package, through apt-get (as root, or with password-less sudo).
# The tests start their own redis-server processes; the service the
# package may start is not used.
set -euo pipefail

command -v redis-server >/dev/null 2>&1 && exit 0
if [[ $(id -u) == 0 ]]; then
	sudo=()
elif sudo -n true 2>/dev/null; then
	sudo=(sudo -n)
else
	echo "redis-deps: redis-server is missing and apt-get needs root: install it (Debian: apt-get install redis-server)" >&2
	exit 1
fi
echo "redis-deps: installing redis-server (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
apt() { "${sudo[@]}" apt-get -y -q --no-install-recommends "$@" >&2; }
apt install redis-server || { apt update && apt install redis-server; }
command -v redis-server >/dev/null 2>&1 ||
	{ echo "redis-deps: apt-get ran, but there is still no redis-server on PATH" >&2; exit 1; }
