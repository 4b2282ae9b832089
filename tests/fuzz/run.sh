#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/fuzz/run.sh SECONDS NAME... - run each libFuzzer target (make fuzz)
# for SECONDS, starting from its committed corpus tests/fuzz/corpus/NAME and
# adding what it finds to the scratch corpus build/fuzz/corpus/NAME. A
# crashing input is saved as build/fuzz/findings/NAME-crash-*; copy it into
# the committed corpus once fixed. Prints one line per target and exits 1
# if any target failed.
set -u
cd "$(dirname "$0")/../.."
secs=$1
shift
mkdir -p build/fuzz/findings
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:print_stacktrace=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
failed=""
for name in "$@"; do
    corpus=build/fuzz/corpus/$name
    mkdir -p "$corpus"
    dict=""
    [ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"
    log=build/fuzz/$name.log
    # shellcheck disable=SC2086 # $dict is one word or none
    build/fuzz/clang/fuzz-"$name" -max_total_time="$secs" -timeout=10 -max_len=8192 \
        -print_final_stats=1 -artifact_prefix="build/fuzz/findings/$name-" $dict \
        "$corpus" "tests/fuzz/corpus/$name" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    if [ "$rc" = 0 ]; then
        printf 'fuzz %-12s ok    %s runs (%s/s), %s, corpus %s\n' "$name" "${runs:-?}" \
            "${speed:-?}" "${cov:-cov: ?}" "$(ls "$corpus" | wc -l)"
    else
        printf 'fuzz %-12s FAIL  (exit %s) see %s\n' "$name" "$rc" "$log"
        grep -E 'ERROR|finding|Test unit written' "$log" | head -n 5 | sed 's/^/    /'
        failed="$failed $name"
    fi
done
[ -z "$failed" ] || { echo "fuzz: findings in:$failed"; exit 1; }
