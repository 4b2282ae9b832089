#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Svix parity (issue 7): tests/svix/parity.mjs drives the routes and fields
# beyond the common calls (stats, send-example, attempted messages and
# destinations, expunge, scheduled messages, tags, the bracket lists,
# recover and replay-missing as background tasks, backgroundTask.get and
# list, application tokens: appPortalAccess, a client holding the token,
# logout, expireAll) through the official npm client, once
# with 1.x ("svix") and once with 2.x ("svix2", an npm alias), against
# one server. 2.x declares node >= 22 but runs on 18 and 20 for this.
# Like t0300, node_modules comes from `npm ci` when it is missing.
. "$(dirname "$0")/lib.sh"

svix_setup

[ -x "$RECEIVER" ] || bail "no receiver '$RECEIVER' (run make build/tests/helpers/receiver)"
receiver_start
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s --portal-url 'https://portal.example/#key={token}'
rc=0
for mod in svix svix2; do
    # each run prints its own plan; number them as one stream
    HOOKD_URL=$URL HOOKD_TOKEN=$TOKEN HOOKD_RECEIVER_URL=$RURL SVIX_MODULE=$mod \
        node "$SVIX/parity.mjs" >"$T/$mod.tap"
    r=$?
    [ "$r" = 0 ] || rc=$r
    grep -E '^(not )?ok ' "$T/$mod.tap" >>"$T/all.tap"
done
awk '{ sub(/^(not )?ok [0-9]+/, ($1 == "not" ? "not ok " : "ok ") NR); print }' "$T/all.tap"
echo "1..$(wc -l < "$T/all.tap" | tr -d ' ')"
if [ "$rc" != 0 ]; then
    diag "parity.mjs failed; hookd stderr follows"
    sed 's/^/# hookd: /' "$T/hookd.err" >&2
fi
exit "$rc"
