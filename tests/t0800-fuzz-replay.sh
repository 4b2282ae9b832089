#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Replay every committed fuzz corpus (tests/fuzz/corpus/NAME, which keeps
# each input that ever crashed a target) through its target, built as a
# plain binary (build/fuzz/replay-NAME; see tests/fuzz/harness.h). In the
# sanitizer build this runs them under ASan and UBSan too.
. "$(dirname "$0")/lib.sh"

for src in "$TOP"/tests/fuzz/fuzz-*.c; do
    name=$(basename "$src" .c)
    name=${name#fuzz-}
    bin=$TOP/build/fuzz/replay-$name
    corpus=$TOP/tests/fuzz/corpus/$name
    if [ ! -x "$bin" ]; then
        ok 1 "$name: no replay binary '$bin' (make $bin)"
        continue
    fi
    n=$(ls "$corpus" 2>/dev/null | wc -l)
    [ "$n" -gt 0 ] || { ok 1 "$name: empty corpus '$corpus'"; continue; }
    out=$("$bin" "$corpus" 2>"$T/$name.err")
    rc=$?
    is "$rc $out" "0 replayed $n inputs" "$name: $n corpus inputs replay cleanly"
    [ "$rc" = 0 ] || sed 's/^/# /' "$T/$name.err" | head -n 30 >&2
done
done_testing
