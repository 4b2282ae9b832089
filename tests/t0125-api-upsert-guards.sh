#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0125: PUT upserts keep the uid the path names (repeated and concurrent
# PUTs leave one object), custom headers that hookd writes itself are
# refused, and endpoint URLs curl's parser refuses are refused at creation.
. "$(dirname "$0")/lib.sh"
hookd_start

# count_uid PATH UID: how many objects in the list at PATH have that uid
count_uid() {
    api GET "$1?limit=250"
    jqr "[.data[] | select(.uid == \"$2\")] | length"
}
count_all() { api GET "$1?limit=250"; jqr '.data | length'; }

# par_put PATH BODY: 20 identical PUTs at once; waits for those curls only
par_put() {
    _pids=""
    for i in $(seq 1 20); do
        curl -s -o /dev/null -m 20 -X PUT -H "Authorization: Bearer $TOKEN" \
            -H 'Content-Type: application/json' --data-binary "$2" "$URL$1" &
        _pids="$_pids $!"
    done
    for p in $_pids; do wait "$p"; done
}

# --- applications -------------------------------------------------------------
for i in 1 2 3; do
    api PUT /api/v1/app/billing '{"name":"Billing"}'
    [ "$i" = 1 ] && is "$STATUS" 201 "first PUT creates"
    [ "$i" != 1 ] && is "$STATUS" 200 "PUT $i updates"
    is "$(jqr .uid)" billing "PUT $i: uid is the path's"
done
is "$(count_all /api/v1/app)" 1 "three identical PUTs leave one application"
for i in 1 2; do
    api PUT /api/v1/app/billing '{"name":"Billing","uid":null}'
    is "$(jqr .uid)" billing "PUT with uid null $i keeps the path's uid (SDKs send null for unset)"
done
is "$(count_all /api/v1/app)" 1 "and leaves one application"

# 20 concurrent identical PUTs of a new uid
par_put /api/v1/app/par '{"name":"Par"}'
is "$(count_uid /api/v1/app par)" 1 "20 concurrent PUTs leave one application with uid par"
is "$(count_all /api/v1/app)" 2 "and no application without a uid"

api PUT /api/v1/app/billing '{"name":"Billing","uid":"billing2"}'
is "$(jqr .uid)" billing2 "a uid in the body still renames"
APP=$(jqr .id)
api PUT "/api/v1/app/$APP" '{"name":"Billing"}'
is "$STATUS" 200 "PUT by id updates"
is "$(jqr .uid)" null "PUT by id without uid clears it (full replace)"

# --- endpoints ------------------------------------------------------------------
E=/api/v1/app/par/endpoint
for i in 1 2 3; do
    api PUT $E/main '{"url":"http://127.0.0.1:9/hook"}'
    is "$(jqr .uid)" main "endpoint PUT $i: uid is the path's"
done
is "$(count_all $E)" 1 "three identical endpoint PUTs leave one endpoint"
api PUT $E/main '{"url":"http://127.0.0.1:9/hook","uid":null}'
api PUT $E/main '{"url":"http://127.0.0.1:9/hook","uid":null}'
is "$(jqr .uid)" main "endpoint PUTs with uid null keep the path's uid"
is "$(count_all $E)" 1 "and leave one endpoint"
par_put $E/side '{"url":"http://127.0.0.1:9/x"}'
is "$(count_uid $E side)" 1 "20 concurrent endpoint PUTs leave one endpoint with uid side"
is "$(count_all $E)" 2 "and no endpoint without a uid"

# --- reserved headers ---------------------------------------------------------
for h in webhook-id webhook-signature Webhook-Timestamp svix-id svix-signature Host content-length transfer-encoding; do
    api POST $E "{\"url\":\"http://127.0.0.1:9/\",\"headers\":{\"$h\":\"x\"}}"
    is "$STATUS" 422 "create with header $h refused"
    like "$(jqr '.detail[0].msg')" "header '$h'" "the error names $h"
    api PUT $E/main/headers "{\"headers\":{\"$h\":\"x\"}}"
    is "$STATUS" 422 "headers PUT with $h refused"
    api PATCH $E/main/headers "{\"headers\":{\"$h\":\"x\"}}"
    is "$STATUS" 422 "headers PATCH with $h refused"
done
api PUT $E/main/headers '{"headers":{"x-team":"pay"}}'
is "$STATUS" 204 "an ordinary custom header is still taken"

# --- URLs curl cannot use ---------------------------------------------------------
for u in 'http://host:99999/' 'http://host:12ab/' 'http://[::1]:x/' 'http://host:-1/'; do
    api POST $E "{\"url\":\"$u\"}"
    is "$STATUS" 422 "create with url $u refused"
    is "$(jqr '.detail[0].loc|join(".")')" body.url "the error names the url field"
    api PATCH $E/main "{\"url\":\"$u\"}"
    is "$STATUS" 422 "patch to url $u refused"
    api PUT $E/other "{\"url\":\"$u\"}"
    is "$STATUS" 422 "put with url $u refused"
done
like "$(jqr '.detail[0].msg')" 'url cannot be used for delivery: .*[Pp]ort' "the error says why"
api POST $E '{"url":"http://127.0.0.1:8080/ok?x=1#f"}'
is "$STATUS" 201 "a usable url is taken"

done_testing
