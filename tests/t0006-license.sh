#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0006: hookd is Apache-2.0, and says so where a reader or a tool looks:
# LICENSE at the top holds the licence's text, and every source file (C,
# shell, Perl, JavaScript, the configure script and the Makefile) names
# it with an SPDX identifier in its first lines.
. "$(dirname "$0")/lib.sh"

is "$(sed -n 2p "$TOP/LICENSE" | tr -s ' ' | sed 's/^ //')" "Apache License" "LICENSE is the Apache License"
like "$(sed -n 3p "$TOP/LICENSE")" "Version 2\\.0, January 2004" "version 2.0"

missing=""
n=0
for f in $(cd "$TOP" && find src ui vendor tests packaging .ci -type f \
        \( -name '*.c' -o -name '*.h' -o -name '*.sh' -o -name '*.pl' -o -name '*.mjs' \
           -o -name '*.lua' -o -path 'tests/run-one' -o -path '.ci/run' \
           -o -path 'packaging/debian/*' \) \
        -not -path '*/node_modules/*' -not -path 'tests/fuzz/corpus/*' | sort) configure Makefile; do
    n=$((n + 1))
    head -n 3 "$TOP/$f" | grep -q 'SPDX-License-Identifier: Apache-2\.0' || missing="$missing $f"
done
like "$n" '^[0-9]{3,}$' "the source files were found ($n)"
is "$missing" "" "every source file names its licence (SPDX-License-Identifier: Apache-2.0)"
done_testing
