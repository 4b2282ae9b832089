#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/fresh/fresh.sh - the README's two commands on a fresh Debian 12 (make fresh).
#
#   sudo make fresh          (or: sudo sh tests/fresh/fresh.sh)
#
# A newcomer gets a minimal Debian 12 machine, installs git and make, clones
# hookd and types `make run`, then `make test`. This does the same in a
# chroot: a debootstrap --variant=minbase bookworm root with git and make
# (installed without recommends, so a package the suite needs and
# packaging/deps.sh forgets shows up here rather than on the newcomer's
# machine), a clone of the committed HEAD of this tree in /root/hookd, then
#   1. make run, in the background, until 127.0.0.1:8071 answers
#      /api/v1/health; then hookd gets SIGTERM;
#   2. make test, whose prove summary ends the output;
#   3. make deb there, then the package installed with apt in a second
#      fresh root, `hookd version` and `hookd check-config` on the
#      installed configuration, apt remove and apt purge, each checked.
# Both run as root, with /proc, /sys, /dev, /dev/pts and a tmpfs /tmp
# mounted; everything runs in a mount namespace of its own (unshare), so
# the mounts are unmounted on exit and cannot outlive this script even if
# it is killed. Any process left in the root is killed by pid at the end.
#
# The root with git and make is built once and kept as a tarball in
# FRESH_DIR (default /var/tmp/hookd-fresh; rebuilt after FRESH_MAX_DAYS,
# default 7, or with FRESH_REBUILD=1); every run unpacks it into a new
# directory there. The directory is removed after a passing run and kept
# after a failing one (the path is printed; the next run removes it). Logs:
# FRESH_DIR/run.log (make run) and FRESH_DIR/test.log (make test).
#
# Needs root, the network (Debian's mirror: the one this machine's apt
# uses, else deb.debian.org; FRESH_MIRROR overrides), about 3 GB in
# FRESH_DIR and port 8071 free. Takes 10 to 40 minutes. Not part of make
# test or .ci/run.
set -eu

TOP=$(cd "$(dirname "$0")/../.." && pwd)
SUITE=bookworm
DIR=${FRESH_DIR:-/var/tmp/hookd-fresh}
case $DIR in /*) ;; *) DIR=$(pwd)/$DIR ;; esac
BASE=$DIR/$SUITE-minbase-git-make.tar
PORT=8071
RUN_LIMIT_S=${FRESH_RUN_LIMIT_S:-2400}   # make run: deps, configure, build, start
PATH_IN="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

say() { printf 'fresh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# mirror: the Debian archive this machine's apt uses, else deb.debian.org.
mirror() {
    if [ -n "${FRESH_MIRROR:-}" ]; then echo "$FRESH_MIRROR"; return; fi
    m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | awk '$1 == "URIs:" { for (i = 2; i <= NF; i++) print $i }' \
        | grep -E '^https?://.*/debian/?$' | head -n 1)
    [ -n "$m" ] || m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
        | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; break } }' \
        | grep -E '/debian/?$' | head -n 1)
    echo "${m:-http://deb.debian.org/debian}"
}

# in_root CMD...: CMD as root in the chroot, with a clean environment.
in_root() {
    chroot "$ROOT" /usr/bin/env -i HOME=/root PATH="$PATH_IN" TERM="${TERM:-xterm}" \
        LANG=C.UTF-8 "$@"
}

# mount_root: what a running machine has and a bare root lacks.
mount_root() {
    mount -t proc proc "$ROOT/proc"
    mount -t sysfs sysfs "$ROOT/sys"
    mount --bind /dev "$ROOT/dev"
    mount --bind /dev/pts "$ROOT/dev/pts"
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$ROOT/tmp"
    MOUNTED=1
}

# root_pids: processes whose root directory is the chroot.
root_pids() {
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/root" 2>/dev/null)" = "$ROOT" ] && echo "${p#/proc/}"
    done
    return 0
}

# stop_root: SIGTERM, then after up to 10 s SIGKILL, to each process in the root.
stop_root() {
    pids=$(root_pids)
    [ -z "$pids" ] && return 0
    say "stopping what is left in the root: $(echo $pids)"
    kill -TERM $pids 2>/dev/null || true
    i=0
    while [ -n "$(root_pids)" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    pids=$(root_pids)
    [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
    return 0
}

unmount_root() {
    [ "${MOUNTED:-0}" = 1 ] || return 0
    for m in tmp dev/pts dev sys proc; do
        umount "$ROOT/$m" 2>/dev/null || umount -l "$ROOT/$m" 2>/dev/null || say "cannot unmount $ROOT/$m"
    done
    MOUNTED=0
}

# mounts_under DIR: is anything mounted at or below DIR? (never rm -rf then)
mounts_under() {
    awk -v d="$1" '$5 == d || index($5, d "/") == 1 { f = 1 } END { exit !f }' /proc/self/mountinfo
}

# remove_runs: the run directories an earlier run kept.
remove_runs() {
    for r in "$DIR"/run.*; do
        [ -d "$r" ] || continue
        if mounts_under "$r"; then say "not removing '$r': something is mounted in it"; continue; fi
        rm -rf --one-file-system "$r"
    done
}

# build_base: debootstrap minbase, the archive's usual suites, git and make.
build_base() {
    m=$(mirror)
    tmp=$DIR/base.tmp
    rm -rf --one-file-system "$tmp"
    mkdir -p "$tmp"
    say "debootstrap --variant=minbase $SUITE from $m (a few minutes)"
    debootstrap --variant=minbase "$SUITE" "$tmp" "$m" >"$DIR/debootstrap.log" 2>&1 \
        || { tail -n 20 "$DIR/debootstrap.log" >&2; die "debootstrap failed (log: $DIR/debootstrap.log)"; }
    sec=$(echo "$m" | sed 's,/debian/*$,/debian-security,')
    cat >"$tmp/etc/apt/sources.list" <<EOF
deb $m $SUITE main
deb $m $SUITE-updates main
deb $sec $SUITE-security main
EOF
    cp /etc/resolv.conf "$tmp/etc/resolv.conf"
    say "installing git and make in the root"
    mount -t proc proc "$tmp/proc"
    rc=0
    chroot "$tmp" /usr/bin/env -i PATH="$PATH_IN" DEBIAN_FRONTEND=noninteractive sh -c \
        'apt-get update -qq && apt-get install -y -qq --no-install-recommends git make && apt-get clean' \
        >"$DIR/base.log" 2>&1 || rc=$?
    umount "$tmp/proc"
    [ "$rc" = 0 ] || { tail -n 20 "$DIR/base.log" >&2; die "cannot install git and make in the root (log: $DIR/base.log)"; }
    tar -C "$tmp" --numeric-owner -cf "$BASE.tmp" .
    mv "$BASE.tmp" "$BASE"
    rm -rf --one-file-system "$tmp"
}

# wait_health: until hookd answers on PORT, make run ends, or RUN_LIMIT_S.
wait_health() {
    end=$(( $(date +%s) + RUN_LIMIT_S ))
    while [ "$(date +%s)" -lt "$end" ]; do
        if curl -fsS -m 2 "http://127.0.0.1:$PORT/api/v1/health" >/dev/null 2>&1; then return 0; fi
        kill -0 "$1" 2>/dev/null || return 1
        sleep 2
    done
    return 1
}

fresh() {
    mkdir -p "$DIR"
    exec 9>"$DIR/lock"
    flock -n 9 || die "another make fresh is using '$DIR'"
    remove_runs
    if [ "${FRESH_REBUILD:-0}" = 1 ] || [ ! -f "$BASE" ] \
        || [ -n "$(find "$BASE" -mtime +"${FRESH_MAX_DAYS:-7}")" ]; then
        build_base
    else
        say "using the cached root $BASE (FRESH_REBUILD=1 builds it again)"
    fi

    RUN=$(cd "$(mktemp -d "$DIR/run.XXXXXX")" && pwd -P)   # as /proc/PID/root shows it
    ROOT=$RUN/root
    mkdir "$ROOT"
    trap 'stop_root; unmount_root' EXIT
    trap 'exit 130' INT TERM HUP
    tar -C "$ROOT" --numeric-owner -xf "$BASE"
    # debootstrap writes no /etc/hosts; Debian's installer writes this one
    [ -e "$ROOT/etc/hosts" ] || printf '%s\t%s\n' 127.0.0.1 localhost 127.0.1.1 "$(hostname)" \
        ::1 'localhost ip6-localhost ip6-loopback' ff02::1 ip6-allnodes ff02::2 ip6-allrouters \
        >"$ROOT/etc/hosts"
    # The machine's own network set-up comes along: its resolver, and the CA
    # certificates added to it locally (a TLS-inspecting proxy's, say: npm
    # reaches its registry through it), which Debian's ca-certificates takes
    # in when make run installs it. On most machines there are none.
    cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
    for crt in /usr/local/share/ca-certificates/*.crt; do
        [ -f "$crt" ] || continue
        mkdir -p "$ROOT/usr/local/share/ca-certificates"
        cp "$crt" "$ROOT/usr/local/share/ca-certificates/"
    done

    rev=$(git -C "$TOP" rev-parse HEAD)
    say "cloning $TOP at $(git -C "$TOP" log -1 --format='%h %s' HEAD)"
    [ -z "$(git -C "$TOP" status --porcelain --untracked-files=no)" ] \
        || say "note: the tree has uncommitted changes; they are not in the clone"
    git clone -q --no-checkout "$TOP" "$ROOT/root/hookd"
    git -C "$ROOT/root/hookd" checkout -q -B main "$rev"
    mount_root

    say "make run (in the background; log $DIR/run.log)"
    in_root sh -c 'cd /root/hookd && exec make run' >"$DIR/run.log" 2>&1 &
    run_pid=$!
    if ! wait_health "$run_pid"; then
        tail -n 30 "$DIR/run.log" >&2
        die "make run: no answer on 127.0.0.1:$PORT/api/v1/health (root kept in $RUN)"
    fi
    say "make run: hookd answers on 127.0.0.1:$PORT; stopping it"
    for p in $(root_pids); do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = hookd ] && kill -TERM "$p"
    done
    rc=0
    wait "$run_pid" || rc=$?
    tail -n 5 "$DIR/run.log" | sed 's/^/  run: /' >&2
    [ "$rc" = 0 ] || say "make run exited with $rc after SIGTERM (root kept in $RUN)"
    [ "$rc" = 0 ] || exit 1

    say "make test (log $DIR/test.log)"
    rc=0
    in_root sh -c 'cd /root/hookd && exec make test' >"$DIR/test.log" 2>&1 || rc=$?
    # what did not run (prove --directives shows skipped checks): a tool
    # deps.sh --test does not install shows here first
    awk '/^\[[0-9:]+\] [^ ]+ \.+/ { t = $2 }
         tolower($0) ~ /# skip|skipped:/ { print "  skipped in " t ": " $0 }' "$DIR/test.log" >&2
    tail -n 12 "$DIR/test.log"
    stop_root
    unmount_root
    if [ "$rc" != 0 ]; then
        say "make test failed with $rc (root kept in $RUN; log $DIR/test.log)"
        exit 1
    fi
    package_drill
    rm -rf --one-file-system "$RUN"
    say "both commands passed on a fresh Debian 12, and the package installs, checks and purges"
}

# check WHAT CMD...: run CMD in the root; say WHAT, or die with its output.
check() {
    _what=$1
    shift
    if _out=$(in_root "$@" 2>&1); then
        say "package: $_what"
    else
        printf '%s\n' "$_out" | tail -n 20 >&2
        die "package: $_what FAILED (root kept in $RUN)"
    fi
}

# package_drill: the .deb that make deb builds in the first root, installed
# with apt in a second, untouched one (no build tools), checked and removed
# the way an administrator would.
package_drill() {
    say "make deb (in the first root)"
    mount_root
    rc=0
    in_root sh -c 'cd /root/hookd && exec make -s deb' >"$DIR/deb.log" 2>&1 || rc=$?
    stop_root
    unmount_root
    [ "$rc" = 0 ] || { tail -n 20 "$DIR/deb.log" >&2; die "make deb failed (root kept in $RUN)"; }
    deb=$(tail -n 1 "$DIR/deb.log")
    ROOT=$RUN/pkgroot
    mkdir "$ROOT"
    tar -C "$ROOT" --numeric-owner -xf "$BASE"
    cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
    cp "$RUN/root$deb" "$ROOT/tmp.deb"
    mount_root
    mv "$ROOT/tmp.deb" "$ROOT/tmp/$(basename "$deb")"
    deb=/tmp/$(basename "$deb")
    say "package: installing $(basename "$deb") in a second fresh root"
    check "apt installs it with its dependencies" sh -c \
        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $deb"
    check "hookd version runs" sh -c 'hookd version | head -n 1 | grep -q "^hookd "'
    check "the hookd user can check the installed configuration" \
        runuser -u hookd -- hookd check-config --config /etc/hookd/hookd.conf
    check "the man page renders" sh -c 'man -l /usr/share/man/man1/hookd.1.gz >/dev/null 2>&1 ||
        zcat /usr/share/man/man1/hookd.1.gz | head -n 1 | grep -q .'
    check "remove keeps the configuration and the data directory" sh -c \
        'apt-get remove -y -qq hookd >/dev/null && [ -f /etc/hookd/hookd.conf ] &&
         [ -d /var/lib/hookd ] && ! command -v hookd'
    check "purge leaves nothing of hookd but its system user" sh -c \
        'apt-get purge -y -qq hookd >/dev/null && [ ! -e /etc/hookd ] && [ ! -e /var/lib/hookd ] &&
         ! dpkg -s hookd >/dev/null 2>&1 && [ -z "$(dpkg -S hookd 2>/dev/null | grep -v "^diversion")" ]'
    stop_root
    unmount_root
}

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mount): run it as root or with sudo"
for c in unshare chroot flock git curl tar; do
    command -v "$c" >/dev/null 2>&1 || die "'$c' is not installed"
done
if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null \
        || die "cannot install debootstrap (apt-get install debootstrap)"
fi
if [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$PORT/")" != 000 ]; then
    die "something already listens on 127.0.0.1:$PORT, where make run starts hookd"
fi

# A mount namespace of our own: the root's mounts never reach the machine's
# table, and go away with this process however it ends.
if [ "${FRESH_IN_NS:-}" != 1 ]; then
    FRESH_IN_NS=1 exec unshare --mount --propagation private sh "$0" "$@"
fi
fresh; exit   # on one line: sh reads a script as it runs, and it may be edited meanwhile
