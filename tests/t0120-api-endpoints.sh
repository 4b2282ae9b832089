#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0120: endpoints: create (fields, both type-filter names, generated secret),
# uid lookup and clashes, validation, event-type existence, pagination in
# both directions, put, patch, delete, secret get and rotate, custom
# headers; error bodies.
. "$(dirname "$0")/lib.sh"
hookd_start

api POST /api/v1/app '{"name":"Acme","uid":"acme"}'
is "$STATUS" 201 "app created"
APP=$(jqr .id)
E=/api/v1/app/acme/endpoint

# --- create ---------------------------------------------------------------
api POST $E '{"url":"https://example.com/hook","description":"main","channels":["a","b"],"metadata":{"k":"v"},"throttleRate":7,"version":2}'
is "$STATUS" 201 "create answers 201"
EP=$(jqr .id)
like "$EP" '^ep_[0-9A-Za-z]{27}$' "id is ep_ + 27 base62 chars"
is "$(jqr .url)" https://example.com/hook "url echoed"
is "$(jqr .description)" main "description echoed"
is "$(jqr '.channels|join(",")')" a,b "channels echoed"
is "$(jqr .metadata.k)" v "metadata echoed"
is "$(jqr .throttleRate)" 7 "throttleRate echoed"
is "$(jqr .rateLimit)" 7 "rateLimit mirrors throttleRate"
is "$(jqr .version)" 2 "version echoed"
is "$(jqr .disabled)" false "disabled defaults to false"
is "$(jqr .uid)" null "uid is null when unset"
is "$(jqr '.eventTypes')" null "eventTypes null when unset"
is "$(jqr 'has("filterTypes")')" true "filterTypes present"
like "$(jqr .createdAt)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z$' "createdAt is RFC 3339"
like "$(jqr .updatedAt)" '^[0-9]{4}-' "updatedAt present"

api POST $E '{"url":"http://localhost:9000"}'
is "$STATUS" 201 "minimal create"
is "$(jqr .description)" "" "description defaults to empty"
is "$(jqr .version)" 1 "version defaults to 1"
is "$(jqr .channels)" null "channels default to null"
is "$(jqr .metadata)" "{}" "metadata defaults to {}"

api GET "$E/$EP/secret"
is "$STATUS" 200 "secret get answers 200"
KEY=$(jqr .key)
like "$KEY" '^whsec_[A-Za-z0-9+/=]+$' "generated secret is whsec_ + base64"
is "$(printf '%s' "${KEY#whsec_}" | base64 -d 2>/dev/null | wc -c | tr -d ' ')" 24 \
    "generated secret decodes to 24 bytes"

# --- uid -----------------------------------------------------------------
api POST $E '{"url":"https://example.com/u","uid":"hook-1"}'
is "$STATUS" 201 "create with uid"
EPU=$(jqr .id)
is "$(jqr .uid)" hook-1 "uid echoed"
api GET "$E/hook-1"
is "$STATUS" 200 "get by uid"
is "$(jqr .id)" "$EPU" "uid resolves to the id"
api GET "/api/v1/app/$APP/endpoint/$EPU"
is "$STATUS" 200 "get by app id and endpoint id"
api POST $E '{"url":"https://example.com/u2","uid":"hook-1"}'
is "$STATUS" 409 "uid clash is 409"
is "$(jqr .code)" conflict "409 code"
is "$(jqr .detail)" "An endpoint with that id or uid already exists" "409 detail"
api POST $E '{"url":"https://example.com/u3","uid":"ep_nope"}'
is "$STATUS" 422 "uid starting with ep_ is 422"
is "$(jqr '.detail[0].loc|join(".")')" body.uid "422 names body.uid"

# --- validation ----------------------------------------------------------
api POST $E '{"url":"ftp://example.com/"}'
is "$STATUS" 422 "non-http url is 422"
is "$(jqr '.detail[0].loc|join(".")')" body.url "422 names body.url"
api POST $E '{"url":"https:///path"}'
is "$STATUS" 422 "url without a host is 422"
api POST $E '{"description":"no url"}'
is "$STATUS" 422 "missing url is 422"
api POST $E '{"url":"https://example.com/","channels":[]}'
is "$STATUS" 422 "empty channels is 422"
api POST $E '{"url":"https://example.com/","channels":["1","2","3","4","5","6","7","8","9","10","11"]}'
is "$STATUS" 422 "11 channels is 422"
api POST $E '{"url":"https://example.com/","throttleRate":0}'
is "$STATUS" 422 "throttleRate 0 is 422"
api POST $E '{"url":"https://example.com/","secret":"whsec_short"}'
is "$STATUS" 422 "short secret is 422"
api POST $E '{"url":"https://example.com/","secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}'
is "$STATUS" 201 "given whsec_ secret accepted"
GIVEN=$(jqr .id)
api GET "$E/$GIVEN/secret"
is "$(jqr .key)" whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw "given secret is kept"
api POST $E '{"url":"https://example.com/","secret":"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}'
is "$STATUS" 201 "secret without prefix accepted"
api GET "$E/$(jqr .id)/secret"
is "$(jqr .key)" whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw "prefix-less secret stored with whsec_"

api POST $E '{"url":"https://example.com/","filterTypes":["user.created"]}'
is "$STATUS" 422 "unknown event type in filterTypes is 422"
is "$(jqr '.detail[0].loc|join(".")')" body.filterTypes "422 names body.filterTypes"
api POST $E '{"url":"https://example.com/","eventTypes":["user.created"]}'
is "$(jqr '.detail[0].loc|join(".")')" body.eventTypes "422 names body.eventTypes"
api POST /api/v1/event-type '{"name":"user.created","description":"x"}'
is "$STATUS" 201 "event type created"
api POST $E '{"url":"https://example.com/t","filterTypes":["user.created","user.created"]}'
is "$STATUS" 201 "filterTypes with an existing event type"
is "$(jqr '.eventTypes|join(",")')" user.created "eventTypes mirrors filterTypes (deduplicated)"
is "$(jqr '.filterTypes|join(",")')" user.created "filterTypes echoed"
TYPED=$(jqr .id)
api POST /api/v1/event-type '{"name":"user.gone","description":"x"}'
api DELETE /api/v1/event-type/user.gone
is "$STATUS" 204 "event type archived"
api POST $E '{"url":"https://example.com/","eventTypes":["user.created","user.gone"]}'
is "$STATUS" 422 "archived event type in eventTypes is 422"
like "$(jqr '.detail[0].msg')" "user.gone" "422 message names the archived type"

api POST /api/v1/app/nope/endpoint '{"url":"https://example.com/"}'
is "$STATUS" 404 "create under a missing app is 404"
is "$(jqr .code)" not_found "404 code"

# --- list ----------------------------------------------------------------
api PUT /api/v1/app/lister '{"name":"Lister"}'
L=/api/v1/app/lister/endpoint
IDS=""
for i in 1 2 3 4 5; do
    api POST $L "{\"url\":\"https://example.com/$i\"}"
    IDS="$IDS $(jqr .id)"
done
DESC=$(printf '%s\n' $IDS | sort -r | tr '\n' ' ')
api GET $L
is "$STATUS" 200 "list answers 200"
is "$(jqr '[.data[].id]|join(" ")') " "$DESC" "default order is descending"
is "$(jqr .done)" true "single page is done"

api GET "$L?limit=2"
P1=$(jqr '[.data[].id]|join(" ")')
is "$(jqr .done)" false "page 1 not done"
IT=$(jqr .iterator)
api GET "$L?limit=2&iterator=$IT"
P2=$(jqr '[.data[].id]|join(" ")')
PREV=$(jqr .prevIterator)
is "$(jqr .done)" false "page 2 not done"
api GET "$L?limit=2&iterator=$(jqr .iterator)"
P3=$(jqr '[.data[].id]|join(" ")')
is "$(jqr .done)" true "page 3 done"
is "$P1 $P2 $P3 " "$DESC" "three pages cover all endpoints in order"
api GET "$L?limit=2&iterator=$PREV"
is "$(jqr '[.data[].id]|join(" ")')" "$P1" "prevIterator of page 2 gives page 1"

api GET "$L?limit=2&order=ascending"
A1=$(jqr '[.data[].id]|join(" ")')
api GET "$L?limit=2&order=ascending&iterator=$(jqr .iterator)"
A2=$(jqr '[.data[].id]|join(" ")')
APREV=$(jqr .prevIterator)
api GET "$L?limit=2&order=ascending&iterator=$(jqr .iterator)"
A3=$(jqr '[.data[].id]|join(" ")')
is "$A1 $A2 $A3 " "$(printf '%s\n' $IDS | sort | tr '\n' ' ')" "ascending pages in order"
api GET "$L?limit=2&order=ascending&iterator=$APREV"
is "$(jqr '[.data[].id]|join(" ")')" "$A1" "ascending prevIterator goes back"
api GET /api/v1/app/nope/endpoint
is "$STATUS" 404 "list under a missing app is 404"

# --- put, patch, delete ----------------------------------------------------
api PUT "$E/fresh-ep" '{"url":"https://example.com/fresh"}'
is "$STATUS" 201 "put creates a missing endpoint"
is "$(jqr .uid)" fresh-ep "put-created endpoint takes the path uid"
api PUT "$E/fresh-ep" '{"url":"https://example.com/fresh2","uid":"fresh-ep","channels":["c"]}'
is "$STATUS" 200 "put updates an existing endpoint"
is "$(jqr .url)" https://example.com/fresh2 "put changed the url"
api GET "$E/fresh-ep/secret"
like "$(jqr .key)" '^whsec_' "put-created endpoint has a secret"

api PATCH "$E/fresh-ep" '{"description":"patched"}'
is "$STATUS" 200 "patch answers 200"
is "$(jqr .description)" patched "patch sets given fields"
is "$(jqr .channels[0])" c "patch keeps absent fields"
api PATCH "$E/fresh-ep" '{"channels":null}'
is "$(jqr .channels)" null "patch with null clears channels"
api PATCH "$E/fresh-ep" '{"disabled":true,"rateLimit":5}'
is "$(jqr .disabled)" true "patch disables"
is "$(jqr .throttleRate)" 5 "rateLimit sets throttleRate"
api PATCH "$E/$TYPED" '{"eventTypes":["no.such"]}'
is "$STATUS" 422 "patch with an unknown event type is 422"
api PATCH "$E/missing-ep" '{"description":"x"}'
is "$STATUS" 404 "patch of a missing endpoint is 404"

api DELETE "$E/hook-1"
is "$STATUS" 204 "delete answers 204"
is "$BODY" "" "204 has an empty body"
api GET "$E/hook-1"
is "$STATUS" 404 "deleted endpoint is gone"
api GET "$E/$EPU"
is "$STATUS" 404 "deleted endpoint is gone by id too"
api POST $E '{"url":"https://example.com/again","uid":"hook-1"}'
is "$STATUS" 201 "delete freed the uid"

# --- secrets -----------------------------------------------------------------
NEW=whsec_$(head -c 24 /dev/urandom | base64)
api POST "$E/$EP/secret/rotate" "{\"key\":\"$NEW\"}"
is "$STATUS" 204 "rotate with a given key answers 204"
api GET "$E/$EP/secret"
is "$(jqr .key)" "$NEW" "secret get returns the rotated key"
api POST "$E/$EP/secret/rotate" ''
is "$STATUS" 204 "rotate with an empty body"
api GET "$E/$EP/secret"
like "$(jqr .key)" '^whsec_' "rotated key is whsec_"
[ "$(jqr .key)" != "$NEW" ]; ok $? "empty-body rotate generated a new key"
api POST "$E/$EP/secret/rotate" '{"gracePeriodSeconds":604801}'
is "$STATUS" 422 "grace period above 7 days is 422"
api POST "$E/$EP/secret/rotate" '{"key":"nope"}'
is "$STATUS" 422 "bad key is 422"

api POST $E '{"url":"https://example.com/rot"}'
ROT=$(jqr .id)
codes=""
for i in 1 2 3 4 5 6 7 8 9 10 11; do
    api POST "$E/$ROT/secret/rotate" '{}'
    codes="$codes$STATUS "
done
is "$codes" "204 204 204 204 204 204 204 204 204 204 400 " "11th rotation within the grace period is refused"
is "$(jqr .code)" limit_reached "400 code limit_reached"
api POST "$E/$ROT/secret/rotate" '{"gracePeriodSeconds":0}'
is "$STATUS" 204 "grace 0 rotation keeps no old key, so it stays within the limit"

# --- headers -----------------------------------------------------------------
H="$E/$EP/headers"
api PUT "$H" '{"headers":{"X-Custom":"1","Authorization":"Bearer s3cret","X-Other":"2"}}'
is "$STATUS" 204 "headers put answers 204"
api GET "$H"
is "$STATUS" 200 "headers get answers 200"
is "$(jqr '.headers|keys|join(",")')" X-Custom,X-Other "non-sensitive headers listed with values"
is "$(jqr '.headers."X-Custom"')" 1 "header value returned"
is "$(jqr '.sensitive|join(",")')" Authorization "sensitive names listed"
case "$BODY" in *s3cret*) ok 1 "sensitive value hidden" ;; *) ok 0 "sensitive value hidden" ;; esac

api PATCH "$H" '{"headers":{"x-custom":null,"X-New":"n"},"deleteHeaders":["x-other"]}'
is "$STATUS" 204 "headers patch answers 204"
api GET "$H"
is "$(jqr '.headers|keys|join(",")')" X-New "patch removed null and listed names (any case), added new"
is "$(jqr '.sensitive|join(",")')" Authorization "patch kept untouched headers"
api PUT "$H" '{"headers":{"X-Only":"o"}}'
api GET "$H"
is "$(jqr '.headers|keys|join(",")') $(jqr '.sensitive|length')" "X-Only 0" "put replaces all headers"

for name in User-Agent content-type x-amz-date X-Svix-Foo svix-id x-google-thing; do
    api PUT "$H" "{\"headers\":{\"$name\":\"v\"}}"
    is "$STATUS" 422 "forbidden header '$name' is 422"
done
is "$(jqr '.detail[0].loc|join(".")')" body.headers "422 names body.headers"
api PUT "$H" '{"headers":{"bad name":"v"}}'
is "$STATUS" 422 "header name with a space is 422"
api PUT "$H" '{"headers":{"X-A":"a\r\nX-B: b"}}'
is "$STATUS" 422 "header value with CRLF is 422"
LONG=$(head -c 4097 /dev/zero | tr '\0' a)
api PUT "$H" "{\"headers\":{\"X-Long\":\"$LONG\"}}"
is "$STATUS" 422 "header value over 4096 bytes is 422"
api POST $E "{\"url\":\"https://example.com/h\",\"headers\":{\"X-Init\":\"i\",\"x-api-key\":\"k\"}}"
is "$STATUS" 201 "create with initial headers"
api GET "$E/$(jqr .id)/headers"
is "$(jqr '.headers."X-Init"') $(jqr '.sensitive|join(",")')" "i x-api-key" "initial headers stored"
api POST $E '{"url":"https://example.com/h","headers":{"Content-Length":"1"}}'
is "$STATUS" 422 "create with a forbidden header is 422"

# --- protocol errors ---------------------------------------------------------
api POST "$E/$EP" '{}'
is "$STATUS" 405 "wrong method is 405"
is "$(jqr .code)" method_not_allowed "405 body is JSON"
AUTH=none api GET $E
is "$STATUS" 401 "missing token is 401"
is "$(jqr .code)" authentication_failed "401 body is JSON"

done_testing
