#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0100: applications: create, get-or-create, get by id and uid, list and
# pagination in both directions, put, patch, delete; error bodies.
. "$(dirname "$0")/lib.sh"
hookd_start

api POST /api/v1/app '{"name":"Acme","uid":"acme","metadata":{"tier":"gold"},"throttleRate":10}'
is "$STATUS" 201 "create answers 201"
ID=$(jqr .id)
like "$ID" '^app_[0-9A-Za-z]{27}$' "id is app_ + 27 base62 chars"
is "$(jqr .uid)" acme "uid echoed"
is "$(jqr .metadata.tier)" gold "metadata echoed"
is "$(jqr .throttleRate)" 10 "throttleRate echoed"
is "$(jqr .rateLimit)" 10 "rateLimit mirrors throttleRate (1.x)"
like "$(jqr .createdAt)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z$' "createdAt is RFC 3339"

api GET /api/v1/app/acme
is "$STATUS" 200 "get by uid"
is "$(jqr .id)" "$ID" "uid resolves to the id"
api GET "/api/v1/app/$ID"
is "$(jqr .name)" Acme "get by id"

api POST /api/v1/app '{"name":"Other","uid":"acme"}'
is "$STATUS" 409 "uid clash is 409"
is "$(jqr .code)" conflict "409 body has code conflict"
api POST '/api/v1/app?get_if_exists=true' '{"name":"Other","uid":"acme"}'
is "$STATUS" 200 "get_if_exists returns the existing app with 200"
is "$(jqr .id)" "$ID" "get_if_exists returns the same app"
api POST '/api/v1/app?get_if_exists=true' '{"name":"New","uid":"newapp"}'
is "$STATUS" 201 "get_if_exists creates when missing"

api POST /api/v1/app '{"name":"x","uid":"app_nope"}'
is "$STATUS" 422 "uid with the id prefix is 422"
is "$(jqr '.detail[0].loc|join(".")')" body.uid "422 names body.uid"
api POST /api/v1/app '{"uid":"noname"}'
is "$STATUS" 422 "missing name is 422"
is "$(jqr '.detail[0].type')" value_error.missing "missing field type"
api POST /api/v1/app '{"name":"x","uid":"bad uid!"}'
is "$STATUS" 422 "uid with bad characters is 422"
api POST /api/v1/app '{"name":"x","metadata":{"a":1}}'
is "$STATUS" 422 "metadata with a non-string value is 422"
api POST /api/v1/app '{"name":"x","throttleRate":0}'
is "$STATUS" 422 "throttleRate 0 is 422"
api POST /api/v1/app '[1,2]'
is "$STATUS" 422 "a non-object body is 422"

api PUT /api/v1/app/acme '{"name":"Acme Inc","uid":"acme"}'
is "$STATUS" 200 "put updates an existing app"
is "$(jqr .name)" "Acme Inc" "put changed the name"
is "$(jqr .metadata)" "{}" "put replaces metadata (absent = default)"
api PUT /api/v1/app/fresh '{"name":"Fresh"}'
is "$STATUS" 201 "put creates a missing app"
is "$(jqr .uid)" fresh "put-created app takes the path uid"

api PATCH /api/v1/app/acme '{"metadata":{"k":"v"}}'
is "$STATUS" 200 "patch answers 200"
is "$(jqr .name)" "Acme Inc" "patch keeps absent fields"
is "$(jqr .metadata.k)" v "patch sets given fields"
api PATCH /api/v1/app/acme '{"throttleRate":null}'
is "$(jqr .throttleRate)" null "patch with null clears"
api PATCH /api/v1/app/acme '{"uid":"acme2"}'
is "$(jqr .uid)" acme2 "patch changes the uid"
api GET /api/v1/app/acme
is "$STATUS" 404 "the old uid is freed"
api GET /api/v1/app/acme2
is "$STATUS" 200 "the new uid resolves"

# pagination: 3 more apps -> 6 in all
for i in 1 2 3; do api POST /api/v1/app "{\"name\":\"p$i\"}"; done
api GET '/api/v1/app?limit=2'
is "$(jqr '.data|length')" 2 "page 1 has 2 apps"
is "$(jqr .done)" false "page 1 is not done"
P1=$(jqr '[.data[].id]|join(",")')
IT=$(jqr .iterator)
api GET "/api/v1/app?limit=2&iterator=$IT"
P2=$(jqr '[.data[].id]|join(",")')
PREV=$(jqr .prevIterator)
IT=$(jqr .iterator)
api GET "/api/v1/app?limit=2&iterator=$IT"
is "$(jqr '.data|length')" 2 "page 3 has 2 apps"
is "$(jqr .done)" true "page 3 is done"
api GET "/api/v1/app?limit=2&iterator=$PREV"
is "$(jqr '[.data[].id]|join(",")')" "$P1" "prevIterator pages back to page 1"
api GET '/api/v1/app?limit=250'
ALL=$(jqr '[.data[].id]|join(",")')
is "$ALL" "$(jqr '[.data[].id]|sort|join(",")')" "apps list ascending by id"
api GET '/api/v1/app?limit=250&order=descending'
is "$(jqr '[.data[].id]|join(",")')" "$(jqr '[.data[].id]|sort|reverse|join(",")')" "order=descending reverses"
api GET '/api/v1/app?limit=251'
is "$STATUS" 422 "limit over 250 is 422"
is "$(jqr '.detail[0].loc|join(".")')" query.limit "422 names query.limit"

api DELETE /api/v1/app/acme2
is "$STATUS" 204 "delete answers 204"
api GET "/api/v1/app/$ID"
is "$STATUS" 404 "deleted app is gone"
is "$(jqr .code)" not_found "404 body has code not_found"
api DELETE /api/v1/app/acme2
is "$STATUS" 404 "deleting again is 404"
api POST /api/v1/app '{"name":"reuse","uid":"acme2"}'
is "$STATUS" 201 "a deleted app's uid can be reused"

done_testing
