#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Install hookd's dependencies from Debian 12 packages.
#
#   sh packaging/deps.sh          what building and running hookd need (make run)
#   sh packaging/deps.sh --test   that, and what the test suite needs (make test)
#
# Idempotent: asks apt only for what is missing, and says nothing when all is
# there. Each list below is one purpose, with the tests that need it; a test
# that needs a new tool adds its package to the list it belongs to (or a new
# list, added to TEST).
set -eu

# Building: a C compiler, pkg-config and the headers of hookd's libraries.
BUILD="build-essential pkg-config
liblmdb-dev libcurl4-openssl-dev libmbedtls-dev libmicrohttpd-dev libjansson-dev libncurses-dev"
# Running: deliveries to https:// endpoints verify the receiver's
# certificate against the system's CA bundle.
RUN="ca-certificates"

# The test harness: prove (perl), the API calls and their JSON (curl, jq),
# ps and ip (procps, iproute2).
TEST_HARNESS="perl curl jq procps iproute2"
# The store's files seen from outside: mdb_stat, mdb_dump (t0140, t0155, t0200).
TEST_STORE="lmdb-utils"
# The console driven in a terminal (t0610, t0760).
TEST_CONSOLE="tmux"
# Certificates for the TLS test (t0760) and signatures in t0050.
TEST_TLS="openssl"
# make deb and its test (t0700): dpkg-shlibdeps, man -l, systemd-analyze verify,
# lintian.
TEST_PACKAGE="dpkg-dev man-db groff-base systemd lintian"
# The benchmark smoke test (t0900).
TEST_BENCH="wrk"
# The official svix client, run by t0300 (tests/svix; any node >= 18).
TEST_SVIX="nodejs npm"
# promtool, which checks the /metrics output (t0520), is not in this list:
# Debian ships it only inside the prometheus package, with a server that
# would start at once and listen on every interface. need_promtool below
# takes promtool alone out of that package instead of installing it.

TEST="$TEST_HARNESS $TEST_STORE $TEST_CONSOLE $TEST_TLS $TEST_PACKAGE $TEST_BENCH $TEST_SVIX"

TOP=$(cd "$(dirname "$0")/.." && pwd)
TOOLS=$TOP/build/tools          # tests/lib.sh puts $TOOLS/bin first in PATH

with_tests=no
case "${1:-}" in
"") ;;
--test) with_tests=yes ;;
*) echo "usage: sh packaging/deps.sh [--test]" >&2; exit 2 ;;
esac

PKGS="$BUILD $RUN"
[ "$with_tests" = yes ] && PKGS="$PKGS $TEST"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done

# node and npm may come from outside Debian's packages (the machine image ships
# its own); accept any working node >= 18 instead of the Debian package.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    missing=$(printf '%s\n' $missing | grep -v -x -e nodejs -e npm | tr '\n' ' ')
fi
missing=$(echo $missing)

need_promtool=no
if [ "$with_tests" = yes ] && ! command -v promtool >/dev/null 2>&1 \
    && [ ! -x "$TOOLS/bin/promtool" ]; then
    need_promtool=yes
fi

[ -z "$missing" ] && [ "$need_promtool" = no ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
updated=no
update() { $SUDO apt-get update -qq >/dev/null; updated=yes; }

if [ -n "$missing" ]; then
    echo "deps.sh: installing: $missing" >&2
    update
    $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# promtool alone: Debian's prometheus package, downloaded (apt checks it
# against the archive's signature; no root needed) and unpacked in
# build/tools, never installed, so no server runs.
fetch_promtool() {
    rm -f "$dl"/prometheus_*.deb
    (cd "$dl" && apt-get download prometheus) >"$dl/log" 2>&1
}
if [ "$need_promtool" = yes ]; then
    echo "deps.sh: unpacking promtool from Debian's prometheus package into $TOOLS/bin" >&2
    dl=$(mktemp -d "${TMPDIR:-/tmp}/hookd-deps.XXXXXX")
    trap 'rm -rf "$dl"' EXIT
    if ! fetch_promtool && { [ "$updated" = yes ] || ! update || ! fetch_promtool; }; then
        cat "$dl/log" >&2
        echo "deps.sh: cannot download Debian's prometheus package (for promtool)" >&2
        exit 1
    fi
    mkdir -p "$dl/x" "$TOOLS/bin"
    dpkg-deb --fsys-tarfile "$dl"/prometheus_*.deb | tar -x -C "$dl/x" ./usr/bin/promtool
    install -m 0755 "$dl/x/usr/bin/promtool" "$TOOLS/bin/promtool"
fi
