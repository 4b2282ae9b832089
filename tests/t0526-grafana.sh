#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0526: the Grafana dashboard (packaging/grafana-dashboard.json) asks only
# for series and labels that /metrics exports. A server with real traffic
# (successes, 5xx and network failures, so every family and label value
# the dashboard filters on is present) is scraped, and every query of the
# dashboard is checked against the scrape by tests/helpers/promql-names.pl;
# a copy of the dashboard with one misspelt name, label and label value
# must fail the same check, so the check itself can fail.
. "$(dirname "$0")/lib.sh"
[ -x "$RECEIVER" ] || bail "no receiver '$RECEIVER' (run make build/tests/helpers/receiver)"
DASH=$TOP/packaging/grafana-dashboard.json
CHECK="perl $TOP/tests/helpers/promql-names.pl"
plan 7

is "$(jq -r '.uid' "$DASH")" hookd-overview "the dashboard is valid JSON with its uid"

receiver_start
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s
api POST /api/v1/app '{"name":"shop","uid":"shop"}'
api POST /api/v1/app/shop/endpoint "{\"uid\":\"good\",\"url\":\"$RURL/ok\"}"
api POST /api/v1/app/shop/endpoint "{\"uid\":\"bad\",\"url\":\"$RURL/status/500\"}"
for i in 1 2 3; do
    api POST /api/v1/app/shop/msg "{\"eventType\":\"order.paid\",\"payload\":{\"n\":$i}}"
done
wait_received '.path == "/ok"' 3 || diag "the good endpoint did not get its 3 messages"
wait_for 10 sh -c "[ \"\$(curl -s -H 'Authorization: Bearer $TOKEN' $URL/metrics |
    awk '\$1 == \"hookd_attempts_total{outcome=\\\"failure\\\",class=\\\"5xx\\\"}\" { print \$2 }')\" -ge 3 ]" ||
    diag "no 5xx failures counted"
curl -s -H "Authorization: Bearer $TOKEN" "$URL/metrics" > "$T/metrics"
like "$(grep -c '^hookd_' "$T/metrics")" '^[0-9]{2,}$' "a scrape with hookd's series"
like "$(grep '^hookd_endpoint_backlog{' "$T/metrics" | head -n 1)" 'endpoint_id=' \
     "per-endpoint series are in the scrape"

out=$($CHECK "$T/metrics" "$DASH"); rc=$?
is "$rc" 0 "every query names exported series and labels"
[ "$rc" = 0 ] || diag "$out"
like "$out" '^checked [0-9]+ queries$' "the check found the queries ($out)"

# the same check must fail on a dashboard with mistakes in it
sed -e 's/hookd_due_backlog/hookd_due_backlg/' \
    -e 's/sum by (class)/sum by (klass)/' \
    -e 's/outcome=\\"failure\\"/outcome=\\"failed\\"/' "$DASH" > "$T/bad.json"
out=$($CHECK "$T/metrics" "$T/bad.json"); rc=$?
is "$rc" 1 "a misspelt dashboard fails the check"
named=0
for want in "'hookd_due_backlg' is not exported" "the label 'klass'" 'with outcome="failed"'; do
    printf '%s\n' "$out" | grep -qF "$want" && named=$((named + 1))
done
is "$named" 3 "each mistake is named (a name, a label, a label value)"
done_testing
