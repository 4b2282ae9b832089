#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Svix API conformance (docs/API.md sections 2-8): drive a real hookd with the
# official svix npm clients, 1.x ("svix") then 2.x ("svix2", an npm alias),
# each against a server of its own (the checks expect an empty store);
# tests/svix/package.json pins both versions.
#
# The TAP comes from tests/svix/conformance.mjs; this wrapper prints nothing
# on stdout itself except skip_all / Bail out! lines from tests/lib.sh.
# node_modules is installed with `npm ci` from the committed lockfile when it
# is missing; a failed install (e.g. offline) is a bail-out, never a skip.
# Node 18 (Debian 12's nodejs) has no Web Crypto global, which the client
# needs; conformance.mjs sets it from node:crypto before loading the client.
. "$(dirname "$0")/lib.sh"

svix_setup

[ -x "$RECEIVER" ] || bail "no receiver '$RECEIVER' (run make build/tests/helpers/receiver)"
receiver_start
rc=0
for mod in svix svix2; do
    HOOKD_DATA_DIR=$T/data-$mod hookd_start --allow-network 127.0.0.0/8
    # each run prints its own plan; number them as one stream
    HOOKD_URL=$URL HOOKD_TOKEN=$TOKEN HOOKD_RECEIVER_URL=$RURL SVIX_MODULE=$mod \
        node "$SVIX/conformance.mjs" >"$T/$mod.tap"
    r=$?
    [ "$r" = 0 ] || rc=$r
    grep -E '^(not )?ok ' "$T/$mod.tap" >>"$T/all.tap"
    hookd_stop
done
awk '{ sub(/^(not )?ok [0-9]+/, ($1 == "not" ? "not ok " : "ok ") NR); print }' "$T/all.tap"
echo "1..$(wc -l < "$T/all.tap" | tr -d ' ')"
if [ "$rc" != 0 ]; then
    diag "conformance.mjs failed; hookd stderr follows"
    sed 's/^/# hookd: /' "$T/hookd.err" >&2
fi
exit "$rc"
