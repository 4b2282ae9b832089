#!/bin/sh
# Install every build and test dependency of hookd from Debian 12 packages.
# Idempotent: asks apt only for what is missing, and says nothing when all is there.
# dpkg-dev, man-db, groff-base and systemd serve `make deb` and its test
# (dpkg-shlibdeps, man -l, systemd-analyze verify); prometheus brings promtool,
# which checks the /metrics output (t0520); it is large, but Debian packages
# promtool only with the server.
# openssl makes the self-signed certificates of the TLS test (t0760).
set -eu

PKGS="build-essential pkg-config
liblmdb-dev lmdb-utils
libcurl4-openssl-dev
libmbedtls-dev
libmicrohttpd-dev
libjansson-dev
libncurses-dev
perl curl jq wrk tmux procps iproute2 openssl
dpkg-dev man-db groff-base systemd lintian
prometheus
nodejs npm"

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
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
