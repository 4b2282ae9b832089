#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0146: an idempotency key reused for a different request is refused with
# 422 and writes nothing; the same key with the same request still gets
# the saved answer byte for byte.
. "$(dirname "$0")/lib.sh"
hookd_start

api POST /api/v1/app '{"name":"a","uid":"a"}' -H 'idempotency-key: app-1'
is "$STATUS" 201 "app created under a key"
APPBODY=$BODY
api POST /api/v1/app '{"name":"a","uid":"a"}' -H 'idempotency-key: app-1'
is "$STATUS" 201 "the same request under the same key: saved status"
is "$BODY" "$APPBODY" "and the saved body"
api POST /api/v1/app '{"name":"b","uid":"b"}' -H 'idempotency-key: app-1'
is "$STATUS" 422 "another body under the same key is refused"
is "$(jqr .code)" idempotency_key_reused "with its own code"
like "$(jqr .detail)" "already used for a different request" "saying what happened"
api GET /api/v1/app/b
is "$STATUS" 404 "the second request wrote nothing"

M=/api/v1/app/a/msg
api POST $M '{"eventType":"e","payload":{"n":1}}' -H 'idempotency-key: m-1'
is "$STATUS" 202 "message accepted"
FIRST=$BODY
api POST $M '{"eventType":"e","payload":{"n":1}}' -H 'idempotency-key: m-1'
is "$BODY" "$FIRST" "a retry gets the first answer"
api POST $M '{"eventType":"e","payload":{"n":2}}' -H 'idempotency-key: m-1'
is "$STATUS" 422 "a different message under the same key is refused, not dropped"
is "$(jqr .code)" idempotency_key_reused "with idempotency_key_reused"
api POST $M '{"eventType":"e","payload":{"n":2}}' -H 'idempotency-key: m-2'
is "$STATUS" 202 "the different message under its own key is accepted"
api GET $M
is "$(jqr '.data|length')" 2 "two messages: the refused one was not stored"
is "$(jqr '[.data[].payload.n]|sort|join(",")')" "1,2" "each payload once"

done_testing
