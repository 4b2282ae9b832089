#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/bench/run.sh - run every benchmark in tests/bench/*.sh (`make bench`).
#
# Each benchmark is a shell script that prints its own report, exits 0 when
# nothing is broken (missed performance targets only warn) and 1 when
# something is (for example an acknowledged message that was not stored).
# This script runs them all in name order and fails if any failed.
set -u
DIR=$(cd "$(dirname "$0")" && pwd)
failed=""
for f in "$DIR"/*.sh; do
    [ "$(basename "$f")" = run.sh ] && continue
    name=$(basename "$f" .sh)
    echo "=== bench: $name ==="
    if sh "$f"; then
        echo "=== $name: ok"
    else
        echo "=== $name: FAILED"
        failed="$failed $name"
    fi
    echo
done
if [ -n "$failed" ]; then
    echo "failed benchmarks:$failed"
    exit 1
fi
