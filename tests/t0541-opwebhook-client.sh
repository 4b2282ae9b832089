#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0541: the operational-webhook routes through the official svix npm
# clients (tests/svix/opwebhook.mjs), once with 1.x ("svix") and once with
# 2.x ("svix2"), against one server: every operationalWebhookEndpoint call
# with its status code, and an event verified with the package's own
# Webhook.verify. Skipped without node, as t0300 is.
. "$(dirname "$0")/lib.sh"

svix_setup

[ -x "$RECEIVER" ] || bail "no receiver '$RECEIVER' (run make build/tests/helpers/receiver)"
receiver_start
hookd_start --allow-network 127.0.0.0/8
rc=0
for mod in svix svix2; do
    # each run prints its own plan; number them as one stream
    HOOKD_URL=$URL HOOKD_TOKEN=$TOKEN HOOKD_RECEIVER_URL=$RURL HOOKD_RECEIVER_LOG=$RLOG \
        SVIX_MODULE=$mod node "$SVIX/opwebhook.mjs" >"$T/$mod.tap"
    r=$?
    [ "$r" = 0 ] || rc=$r
    grep -E '^(not )?ok ' "$T/$mod.tap" >>"$T/all.tap"
done
awk '{ sub(/^(not )?ok [0-9]+/, ($1 == "not" ? "not ok " : "ok ") NR); print }' "$T/all.tap"
echo "1..$(wc -l < "$T/all.tap" | tr -d ' ')"
if [ "$rc" != 0 ]; then
    diag "opwebhook.mjs failed; hookd stderr follows"
    sed 's/^/# hookd: /' "$T/hookd.err" >&2
fi
exit "$rc"
