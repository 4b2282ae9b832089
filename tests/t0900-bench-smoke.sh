#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The ingest benchmark as a smoke test: a two-second run with few
# connections must finish, acknowledge messages and lose none of them.
# Throughput targets are not asserted here (they only warn in `make bench`).
. "$(dirname "$0")/lib.sh"
command -v wrk >/dev/null || skip_all "wrk not installed (sh packaging/deps.sh --test)"
[ -x "$HOOKD" ] || bail "no server binary '$HOOKD' (run make)"

BENCH_DURATION=2s BENCH_CONNECTIONS=32 BENCH_SLICES=2 BENCH_SLICE=1s HOOKD=$HOOKD \
    sh "$TOP/tests/bench/ingest.sh" >"$T/bench.out" 2>&1
rc=$?
is "$rc" 0 "ingest benchmark exits 0"
[ "$rc" = 0 ] || sed 's/^/# /' "$T/bench.out" >&2

result=$(grep '^RESULT ' "$T/bench.out")
like "$result" 'hookd_msgs_per_sec=[0-9]+' "benchmark prints its result line"
field() { printf '%s\n' "$result" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
rate=$(field hookd_msgs_per_sec)
ok "$(awk -v r="${rate:-0}" 'BEGIN { exit !(r > 0) }'; echo $?)" "hookd acknowledged messages ($rate msg/s)"
is "$(field lost)" 0 "no acknowledged message was lost"
srps=$(field suspend_rps)
ok "$(awk -v r="${srps:-0}" 'BEGIN { exit !(r > 0) }'; echo $?)" \
    "the suspending bare responder answered ($srps req/s)"
pr=$(field paired_ratio)
ok "$(awk -v r="${pr:-0}" 'BEGIN { exit !(r > 0) }'; echo $?)" \
    "paired turns measured a ratio ($pr: $(field paired_hookd_rps) against $(field paired_bare_rps))"
like "$(field stored)" '^[1-9][0-9]*$' "messages were stored"
hc=$(field hookd_cpu_us) bc=$(field bare_cpu_us)
ok "$(awk -v h="${hc:-0}" -v b="${bc:-0}" 'BEGIN { exit !(h > 0 && b > 0 && h < 100000) }'; echo $?)" \
    "CPU per request measured for hookd ($hc us) and bare ($bc us)"
done_testing
