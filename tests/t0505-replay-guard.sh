#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0505: bulk replay cannot hit more than was meant (issue 6): unknown
# keys in the body or its filter are 422 naming the key (a typo must not
# widen a replay to every app), a filter without status replays failed
# deliveries only, and dryRun answers what would be queued, by status,
# without sending anything.
. "$(dirname "$0")/lib.sh"
[ -x "$RECEIVER" ] || bail "no receiver '$RECEIVER' (run make build/tests/helpers/receiver)"
receiver_start
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s

api POST /api/v1/app '{"name":"a","uid":"a"}'
is "$STATUS" 201 "app a created"
api POST /api/v1/app/a/endpoint "{\"uid\":\"ok\",\"url\":\"$RURL/ok\"}"
EP_OK=$(jqr .id)
api POST /api/v1/app/a/endpoint "{\"uid\":\"bad\",\"url\":\"$RURL/bad/status/500\"}"
EP_BAD=$(jqr .id)
for i in 1 2 3; do
    api POST /api/v1/app/a/msg "{\"eventType\":\"t\",\"payload\":{\"n\":$i}}"
    MSG=$(jqr .id)
done
is "$STATUS" 202 "three messages sent"
wait_received '(.path=="/ok")' 3
ok $? "three successes"
failed3() { api GET /hookd/v1/stats; [ "$(jqr .deliveriesFailed)" = 3 ]; }
wait_for 15 failed3
ok $? "three deliveries failed for good"

api POST /hookd/v1/deliveries/replay '{"filter":{"appId":"a"}}'
is "$STATUS" 422 "a misspelt filter key is 422"
is "$(jqr '.detail[0].loc|join(".")')" "body.filter.appId" "the error's loc names the key"
like "$(jqr '.detail[0].msg')" "unknown key 'appId'.*app_id" "and says which keys are known"
api POST /hookd/v1/deliveries/replay '{"filter":{},"dry_run":true}'
is "$STATUS:$(jqr '.detail[0].loc|join(".")')" "422:body.dry_run" "an unknown top-level key is 422"
api POST /hookd/v1/deliveries/replay '{"filter":{},"dryRun":"yes"}'
is "$STATUS" 422 "dryRun must be a boolean"

api POST /hookd/v1/deliveries/replay '{"filter":{},"dryRun":true}'
is "$STATUS" 200 "a dry run answers 200"
is "$(jqr '[.dryRun, .wouldQueue, (.byStatus|tojson)]|@csv')" 'true,3,"{""fail"":3}"' \
   "an empty filter would replay the three failed deliveries only"
api POST /hookd/v1/deliveries/replay '{"filter":{"status":"success"},"dryRun":true}'
is "$(jqr '[.wouldQueue, .byStatus.success]|@csv')" "3,3" "successes only when asked for"
api POST /hookd/v1/deliveries/replay \
    "{\"dryRun\":true,\"deliveries\":[{\"msgId\":\"$MSG\",\"endpointId\":\"$EP_OK\"},{\"msgId\":\"$MSG\",\"endpointId\":\"$EP_BAD\"}]}"
is "$(jqr '[.wouldQueue, .byStatus.success, .byStatus.fail]|@csv')" "2,1,1" \
   "a dry run of a list counts what each listed delivery is"
sleep 0.5
is "$(received '(.path=="/ok")')" 3 "dry runs sent nothing"

api POST /hookd/v1/deliveries/replay '{"filter":{}}'
is "$STATUS:$(jqr .queued)" "202:3" "an empty filter queues the three failed deliveries"
wait_received '(.path=="/bad/status/500")' 9
ok $? "the failed ones are sent again"
sleep 0.5
is "$(received '(.path=="/ok")')" 3 "no success was sent a second time"

done_testing
