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

# Building: a C compiler, pkg-config and the headers of hookd's libraries
# (libnats-dev: the NATS client of cluster mode; ./configure --without-cluster
# builds without it).
BUILD="build-essential pkg-config
liblmdb-dev libcurl4-openssl-dev libmbedtls-dev libmicrohttpd-dev libjansson-dev libncurses-dev
libnats-dev"
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
# nats-server, the cluster tests' NATS servers (t0850, tests/cluster.sh), is
# not in a list either, for the same reason: Debian's package enables and
# starts a nats-server.service listening on 127.0.0.1:4222 and adds a system
# user. need_nats below unpacks the binary alone into build/tools/bin.

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

need_nats=no
if [ "$with_tests" = yes ] && ! command -v nats-server >/dev/null 2>&1 \
    && [ ! -x "$TOOLS/bin/nats-server" ]; then
    need_nats=yes
fi

[ -z "$missing" ] && [ "$need_promtool" = no ] && [ "$need_nats" = no ] && exit 0

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

# A tool alone out of a Debian package: the .deb downloaded (apt checks it
# against the archive's signature; no root needed) and only the program
# unpacked into build/tools/bin, never installed, so no server runs.
#   unpack_tool PACKAGE PATH-IN-PACKAGE WHAT
dl=""
fetch_deb() {
    rm -f "$dl/$1"_*.deb
    (cd "$dl" && apt-get download "$1") >"$dl/log" 2>&1
}
unpack_tool() {
    if [ -z "$dl" ]; then
        dl=$(mktemp -d "${TMPDIR:-/tmp}/hookd-deps.XXXXXX")
        trap 'rm -rf "$dl"' EXIT
    fi
    echo "deps.sh: unpacking $3 from Debian's $1 package into $TOOLS/bin" >&2
    if ! fetch_deb "$1" && { [ "$updated" = yes ] || ! update || ! fetch_deb "$1"; }; then
        cat "$dl/log" >&2
        echo "deps.sh: cannot download Debian's $1 package (for $3)" >&2
        exit 1
    fi
    mkdir -p "$dl/x" "$TOOLS/bin"
    dpkg-deb --fsys-tarfile "$dl/$1"_*.deb | tar -x -C "$dl/x" "./$2"
    install -m 0755 "$dl/x/$2" "$TOOLS/bin/$(basename "$2")"
}
[ "$need_promtool" = yes ] && unpack_tool prometheus usr/bin/promtool promtool
[ "$need_nats" = yes ] && unpack_tool nats-server usr/sbin/nats-server nats-server
exit 0
