# SPDX-License-Identifier: Apache-2.0
# tests/lib.sh - TAP and server helpers for hookd's shell integration tests.
#
#   . "$(dirname "$0")/lib.sh"
#   hookd_start                      # real binary, 127.0.0.1:0, temp data dir
#   api POST /api/v1/app '{"name":"a"}'
#   is "$STATUS" 201 "app created"
#   is "$(jqr .name)" a "name echoed"
#   done_testing
#
# Every test gets its own temporary directory ($T), removed at exit along
# with any server it started.

set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
HOOKD=${HOOKD:-$TOP/hookd}
# Tools packaging/deps.sh --test unpacked rather than installed (promtool).
PATH=$TOP/build/tools/bin:$PATH
T=$(mktemp -d "${TMPDIR:-/tmp}/hookd-test.XXXXXX")
_n=0
_fail=0
_planned=""
HOOKD_PIDS=""

# Servers get SIGTERM and up to 5 s in all to stop cleanly, so that a
# sanitizer build checks every one for leaks at exit; then SIGKILL.
_cleanup() {
    for p in $HOOKD_PIDS; do kill -TERM "$p" 2>/dev/null; done
    _i=0
    for p in $HOOKD_PIDS; do
        while kill -0 "$p" 2>/dev/null && [ $_i -lt 100 ]; do _i=$((_i + 1)); sleep 0.05; done
        kill -9 "$p" 2>/dev/null
    done
    rm -rf "$T"
}
trap _cleanup EXIT

plan() { _planned=$1; echo "1..$1"; }
diag() { printf '# %s\n' "$*" >&2; }
ok() {
    _n=$((_n + 1))
    if [ "$1" = 0 ]; then echo "ok $_n - $2"; else echo "not ok $_n - $2"; _fail=$((_fail + 1)); fi
}
# is GOT WANT NAME
is() {
    if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; diag "got: '$1'"; diag "expected: '$2'"; fi
}
# like GOT PATTERN NAME (grep -E)
like() {
    if printf '%s' "$1" | grep -Eq -- "$2"; then ok 0 "$3"; else ok 1 "$3"; diag "got: '$1'"; diag "expected to match: '$2'"; fi
}
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
bail() { echo "Bail out! $*"; exit 1; }
done_testing() {
    [ -z "$_planned" ] && echo "1..$_n"
    if [ -n "$_planned" ] && [ "$_planned" != "$_n" ]; then
        diag "planned $_planned tests but ran $_n"; exit 1
    fi
    [ "$_fail" = 0 ] || exit 1
    exit 0
}

# hookd_start [ARGS...]: start a server on a free loopback port with data
# in $T/data (or $HOOKD_DATA_DIR); sets URL, TOKEN, HOOKD_PID. It logs at
# warn unless HOOKD_LOG_ARGS says otherwise (empty: the config decides).
hookd_start() {
    DATA=${HOOKD_DATA_DIR:-$T/data}
    rm -f "$DATA/listen"
    "$HOOKD" serve --listen 127.0.0.1:0 --data "$DATA" ${HOOKD_LOG_ARGS---log-level warn} "$@" \
        >"$T/hookd.out" 2>>"$T/hookd.err" &
    HOOKD_PID=$!
    HOOKD_PIDS="$HOOKD_PIDS $HOOKD_PID"
    i=0
    while [ ! -s "$DATA/listen" ]; do
        i=$((i + 1))
        if [ $i -gt 200 ] || ! kill -0 "$HOOKD_PID" 2>/dev/null; then
            cat "$T/hookd.err" >&2
            bail "hookd did not start"
        fi
        sleep 0.05
    done
    URL=$(cat "$DATA/listen")   # host:port, or https://host:port with TLS
    case $URL in *://*) ;; *) URL="http://$URL" ;; esac
    TOKEN=$(cat "$DATA/admin.token")
}

# hookd_stop [SIGNAL]: stop the server and wait; sets HOOKD_RC.
hookd_stop() {
    kill "-${1:-TERM}" "$HOOKD_PID" 2>/dev/null
    wait "$HOOKD_PID" 2>/dev/null
    HOOKD_RC=$?
}

# api METHOD PATH [BODY [EXTRA CURL ARGS...]]: sets STATUS and BODY.
# Uses $TOKEN unless AUTH is set (AUTH=none sends no Authorization).
api() {
    _m=$1 _p=$2
    shift 2
    _b=${1-}
    [ $# -gt 0 ] && shift
    set -- "$@"
    _auth=${AUTH:-Bearer $TOKEN}
    if [ "$_auth" = none ]; then
        set -- -H "X-No-Auth: 1" "$@"
    else
        set -- -H "Authorization: $_auth" "$@"
    fi
    if [ -n "$_b" ]; then
        set -- -H 'Content-Type: application/json' --data-binary "$_b" "$@"
    fi
    STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -X "$_m" "$@" "$URL$_p")
    BODY=$(cat "$T/body")
}

# jqr FILTER: run jq -r on the last response body.
jqr() { printf '%s' "$BODY" | jq -r "$1" 2>/dev/null; }

# metric 'NAME{LABELS}': that exact series in a fresh GET /metrics ("" if absent).
metric() { api GET /metrics; printf '%s\n' "$BODY" | awk -v k="$1" '$1 == k { print $2 }'; }

# receiver_start [ARGS...]: the test receiver (tests/helpers/receiver.c) on
# a free loopback port, logging to $RLOG; sets RURL (http://127.0.0.1:PORT,
# https:// when ARGS has --tls-cert).
RECEIVER=${RECEIVER:-$TOP/build/tests/helpers/receiver}
receiver_start() {
    RLOG=${RLOG:-$T/received.jsonl}
    : > "$RLOG"
    rm -f "$T/receiver.port"
    "$RECEIVER" --listen 127.0.0.1:0 --log "$RLOG" "$@" > "$T/receiver.port" 2>>"$T/receiver.err" &
    RECEIVER_PID=$!
    HOOKD_PIDS="$HOOKD_PIDS $RECEIVER_PID"
    i=0
    while [ ! -s "$T/receiver.port" ]; do
        i=$((i + 1))
        [ $i -gt 100 ] && bail "receiver did not start"
        sleep 0.05
    done
    _scheme=http
    case " $* " in *" --tls-cert "*) _scheme=https ;; esac
    RURL="$_scheme://127.0.0.1:$(head -n 1 "$T/receiver.port")"
}

# received FILTER: number of receiver log lines matching the jq FILTER.
received() { jq -c "select($1)" "$RLOG" 2>/dev/null | wc -l | tr -d ' '; }

# wait_received FILTER COUNT [SECONDS]: poll until at least COUNT lines
# match (default 10 s); returns 1 on timeout.
wait_received() {
    _deadline=$(( $(date +%s) + ${3:-10} ))
    while [ "$(received "$1")" -lt "$2" ]; do
        [ "$(date +%s)" -ge "$_deadline" ] && return 1
        sleep 0.1
    done
    return 0
}

# wait_for SECONDS CMD...: poll CMD until it succeeds; 1 on timeout.
wait_for() {
    _deadline=$(( $(date +%s) + $1 ))
    shift
    until "$@"; do
        [ "$(date +%s)" -ge "$_deadline" ] && return 1
        sleep 0.1
    done
    return 0
}

# cond EXPR: print 0 when the awk arithmetic EXPR holds, else 1 (for ok).
cond() { awk "BEGIN { exit !($1) }"; echo $?; }

# bench_smoke SCRIPT [VAR=VALUE...]: tests/bench/SCRIPT with those variables
# (and $HOOKD), its output in $T/bench.out; one assertion that it exits 0
# (its output as diagnostics when not); RESULT its RESULT line, for field.
bench_smoke() {
    _script=$1
    shift
    env "$@" HOOKD="$HOOKD" sh "$TOP/tests/bench/$_script" >"$T/bench.out" 2>&1
    _rc=$?
    is "$_rc" 0 "tests/bench/$_script exits 0"
    [ "$_rc" = 0 ] || sed 's/^/# /' "$T/bench.out" >&2
    RESULT=$(grep '^RESULT ' "$T/bench.out")
}
# field KEY: KEY's value in $RESULT ("" when absent).
field() { printf '%s\n' "$RESULT" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# positive V: print 0 when the number V is above 0, else 1 (for ok).
positive() { awk -v v="${1:-0}" 'BEGIN { exit !(v > 0) }'; echo $?; }

# svix_setup: for the tests that drive hookd with the official npm clients
# (tests/svix): skip without node >= 18, install node_modules with npm ci
# from the committed lockfile when either client is missing (a failed
# install, offline say, is a bail-out, never a skip); sets SVIX.
svix_setup() {
    command -v node >/dev/null 2>&1 || skip_all "node is not installed (sh packaging/deps.sh --test installs it)"
    _major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
    [ "${_major:-0}" -ge 18 ] 2>/dev/null || skip_all "node >= 18 is needed, found $(node --version 2>&1)"
    SVIX=$TOP/tests/svix
    if [ ! -f "$SVIX/node_modules/svix/package.json" ] || [ ! -f "$SVIX/node_modules/svix2/package.json" ]; then
        command -v npm >/dev/null 2>&1 || bail "npm is not installed: run sh packaging/deps.sh --test"
        if ! (cd "$SVIX" && npm ci --silent --no-audit --no-fund) >&2; then
            bail "npm ci in tests/svix failed (offline? no registry access?): cannot install the svix clients"
        fi
    fi
}

# reapply_same DATA JOURNAL NAME: rebuild a store from the entry journal of a
# stopped server (hookd serve --entry-journal JOURNAL) into $T/reapply-NAME and
# assert it equals DATA record for record. Uses hookd check --compare when this
# build has it, else compares mdb_dump outputs without the node-local meta
# "probe". Two assertions.
reapply_same() {
    _rd=$T/reapply-$3
    rm -rf "$_rd"
    "$HOOKD" reapply "$2" --data "$_rd" >"$T/reapply-$3.out" 2>&1
    is "$?" 0 "$3: hookd reapply applies every entry of the journal"
    if "$HOOKD" check --help 2>&1 | grep -q -- --compare; then
        "$HOOKD" check --compare "$1" "$_rd" >"$T/compare-$3.out" 2>&1
        _rc=$?
    else
        mdb_dump -a "$1" | sed '/^ 70726f6265$/,+1d' >"$T/dump-a-$3"
        mdb_dump -a "$_rd" | sed '/^ 70726f6265$/,+1d' >"$T/dump-b-$3"
        diff "$T/dump-a-$3" "$T/dump-b-$3" >"$T/compare-$3.out" 2>&1
        _rc=$?
    fi
    [ "$_rc" = 0 ] || { head -40 "$T/compare-$3.out" >&2; cat "$T/reapply-$3.out" >&2; }
    is "$_rc" 0 "$3: the re-applied store equals the served one record for record"
}
