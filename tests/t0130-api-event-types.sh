#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Event types (API.md 4.5): create/409/un-archive, get, list ordered by
# name with pagination and filters, put, patch, archive and expunge.
. "$(dirname "$0")/lib.sh"
hookd_start
ET=/api/v1/event-type
RFC3339='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$'

# create
api POST $ET '{"name":"user.signup","description":"A user signed up","schemas":{"1":{"type":"object"}},"groupName":"user","featureFlag":"beta","unknownField":1}'
is "$STATUS" 201 "create answers 201"
is "$(jqr .name)" user.signup "name echoed"
is "$(jqr .description)" "A user signed up" "description echoed"
is "$(jqr .archived)" false "archived defaults to false"
is "$(jqr .deprecated)" false "deprecated defaults to false"
is "$(printf '%s' "$BODY" | jq -c .schemas)" '{"1":{"type":"object"}}' "schemas kept as an object"
is "$(jqr .groupName)" user "groupName echoed"
is "$(jqr .featureFlag)" beta "featureFlag echoed"
is "$(jqr '.featureFlags | type')" null "featureFlags null when not given"
like "$(jqr .createdAt)" "$RFC3339" "createdAt is RFC 3339"
like "$(jqr .updatedAt)" "$RFC3339" "updatedAt is RFC 3339"
created_at=$(jqr .createdAt)

api POST $ET '{"name":"user.signup","description":"again"}'
is "$STATUS" 409 "duplicate name answers 409"
is "$(jqr .code)" event_type_exists "409 code is event_type_exists"
is "$(jqr .detail)" "An event_type with this name already exists" "409 detail"

api POST $ET '{"name":"no.description"}'
is "$STATUS" 422 "missing description answers 422"
is "$(printf '%s' "$BODY" | jq -c '.detail[0].loc')" '["body","description"]' "422 loc names description"

api POST $ET '{"name":"bad name!","description":"x"}'
is "$STATUS" 422 "name outside the pattern answers 422"
is "$(printf '%s' "$BODY" | jq -c '.detail[0].loc')" '["body","name"]' "422 loc names name"

api POST $ET '{"name":"x","description":"x","schemas":[1]}'
is "$STATUS" 422 "schemas must be an object"

api POST $ET '{"name":"x","description":"x","featureFlags":["a",1]}'
is "$STATUS" 422 "featureFlags must be strings"

api POST $ET '{"name": "x", "description":'
is "$STATUS" 422 "invalid JSON answers 422"
is "$(jqr '.detail[0].type')" value_error.jsondecode "invalid JSON type is value_error.jsondecode"

# get
api GET $ET/user.signup
is "$STATUS" 200 "get answers 200"
is "$(jqr .description)" "A user signed up" "get returns the record"
is "$(printf '%s' "$BODY" | jq -c .schemas)" '{"1":{"type":"object"}}' "get includes schemas"

api GET $ET/no.such.type
is "$STATUS" 404 "get of a missing type answers 404"
is "$(jqr .code)" not_found "404 is JSON with code not_found"

# list: ordered by name whatever the order asked for
api DELETE "$ET/user.signup?expunge=true"
for n in c.type a.type e.type b.type d.type; do
    api POST $ET "{\"name\":\"$n\",\"description\":\"d\",\"schemas\":{\"1\":{}}}"
done
api GET "$ET?order=descending"
is "$STATUS" 200 "list answers 200"
is "$(jqr '[.data[].name] | join(",")')" a.type,b.type,c.type,d.type,e.type "list ordered by name"
is "$(jqr .done)" true "single page is done"
is "$(jqr '[.data[].schemas] | map(. == null) | all')" true "schemas null without with_content"

api GET "$ET?with_content=true"
is "$(printf '%s' "$BODY" | jq -c '.data[0].schemas')" '{"1":{}}' "schemas present with with_content=true"

api GET "$ET?with_content=maybe"
is "$STATUS" 422 "bad with_content answers 422"

api GET "$ET?limit=2"
is "$(jqr '[.data[].name] | join(",")')" a.type,b.type "page 1"
is "$(jqr .iterator)" b.type "page 1 iterator is the last name"
is "$(jqr .prevIterator)" -a.type "page 1 prevIterator is -first name"
is "$(jqr .done)" false "page 1 not done"
api GET "$ET?limit=2&iterator=b.type&order=descending"
is "$(jqr '[.data[].name] | join(",")')" c.type,d.type "page 2"
is "$(jqr .done)" false "page 2 not done"
api GET "$ET?limit=2&iterator=d.type"
is "$(jqr '[.data[].name] | join(",")')" e.type "page 3"
is "$(jqr .iterator)" e.type "page 3 iterator"
is "$(jqr .done)" true "page 3 done"
api GET "$ET?limit=2&iterator=e.type"
is "$(jqr '.data | length')" 0 "past the end is empty"
is "$(jqr .iterator)" null "empty page iterator is null"
api GET "$ET?limit=2&iterator=-c.type"
is "$(jqr '[.data[].name] | join(",")')" a.type,b.type "backwards page before c.type"

api GET "$ET?limit=251"
is "$STATUS" 422 "limit over 250 answers 422"

# archive, include_archived, un-archive
api GET $ET/c.type
c_created=$(jqr .createdAt)
api DELETE $ET/c.type
is "$STATUS" 204 "delete answers 204"
is "$BODY" "" "delete has no body"
api GET $ET
is "$(jqr '[.data[].name] | join(",")')" a.type,b.type,d.type,e.type "archived type hidden from list"
api GET "$ET?include_archived=true"
is "$(jqr '[.data[].name] | join(",")')" a.type,b.type,c.type,d.type,e.type "include_archived shows it"
is "$(jqr '.data[2].archived')" true "listed as archived"
api GET "$ET?limit=2&iterator=b.type"
is "$(jqr '[.data[].name] | join(",")')" d.type,e.type "pages skip archived types"
is "$(jqr .done)" true "and know when they are done"
api GET $ET/c.type
is "$STATUS" 200 "get still returns an archived type"
is "$(jqr .archived)" true "get shows archived"

sleep 0.01
api POST $ET '{"name":"c.type","description":"revived"}'
is "$STATUS" 201 "create over an archived type answers 201"
is "$(jqr .archived)" false "and un-archives it"
is "$(jqr .description)" revived "and overwrites it"
is "$(jqr .createdAt)" "$c_created" "createdAt kept"

# expunge
api DELETE "$ET/a.type?expunge=true"
is "$STATUS" 204 "expunge answers 204"
api GET $ET/a.type
is "$STATUS" 404 "expunged type is gone"
api GET "$ET?include_archived=true"
is "$(jqr '[.data[].name] | join(",")')" b.type,c.type,d.type,e.type "expunged type not listed"
api DELETE $ET/a.type
is "$STATUS" 404 "delete of a missing type answers 404"
is "$(jqr .code)" not_found "delete 404 is JSON"
api DELETE "$ET/b.type?expunge=perhaps"
is "$STATUS" 422 "bad expunge answers 422"

# put
api PUT $ET/order.paid '{"description":"paid","groupName":"orders","featureFlags":["f1","f2"]}'
is "$STATUS" 201 "put of a new name answers 201"
is "$(jqr .name)" order.paid "put takes the name from the path"
is "$(jqr '.featureFlags | join(",")')" f1,f2 "featureFlags echoed"
api PUT $ET/order.paid '{"description":"paid v2","deprecated":true}'
is "$STATUS" 200 "put of an existing name answers 200"
is "$(jqr .description)" "paid v2" "put updates description"
is "$(jqr .deprecated)" true "put updates deprecated"
is "$(jqr .groupName)" null "put replaces: absent groupName is null"
api PUT $ET/order.paid '{"groupName":"x"}'
is "$STATUS" 422 "put without description answers 422"
api PUT "$ET/bad%20name" '{"description":"x"}'
is "$STATUS" 422 "put with a bad path name answers 422"
is "$(printf '%s' "$BODY" | jq -c '.detail[0].loc')" '["path","event_type_name"]' "loc names the path"

# patch
api PATCH $ET/order.paid '{"groupName":"orders","schemas":{"1":{"type":"object"}}}'
is "$STATUS" 200 "patch answers 200"
is "$(jqr .groupName)" orders "patch sets groupName"
is "$(jqr .description)" "paid v2" "patch keeps absent description"
api PATCH $ET/order.paid '{"groupName":null}'
is "$STATUS" 200 "patch with null answers 200"
is "$(jqr .groupName)" null "null clears groupName"
is "$(printf '%s' "$BODY" | jq -c .schemas)" '{"1":{"type":"object"}}' "absent schemas kept"
is "$(jqr .deprecated)" true "absent deprecated kept"
api GET $ET/order.paid
is "$(jqr .groupName)" null "cleared groupName stored"
api PATCH $ET/no.such.type '{"description":"x"}'
is "$STATUS" 404 "patch of a missing type answers 404"
api PATCH $ET/order.paid '{"deprecated":"yes"}'
is "$STATUS" 422 "patch with a bad boolean answers 422"

done_testing
