#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0450: slow-loris clients cannot starve others. An attacker on
# 127.0.0.3 opens far more connections than the server takes in all and
# trickles header bytes; the per-address limit turns most away, the header
# deadline cuts the rest, and a normal client on 127.0.0.1 is served
# promptly throughout. A request line trickled, or nothing sent at all, is
# cut at the idle deadline; a slow request body is not a slow header and
# is served. Without the per-address limit the same attack does starve
# the server until the header deadline frees it, so the limits are what
# this test sees working.
. "$(dirname "$0")/lib.sh"
SLOW=$TOP/build/tests/helpers/slowloris
[ -x "$SLOW" ] || bail "no helper '$SLOW' (run make test)"

hookd_start --max-connections 64 --max-connections-per-ip 16 --header-timeout 3s \
    --idle-timeout 6s --allow-network 127.0.0.0/8
HP=${URL#http://}
"$SLOW" --connect "$HP" --bind 127.0.0.3 --count 1 --seconds 1 --mode idle >/dev/null 2>&1 ||
    skip_all "cannot use 127.0.0.3 as a source address here"
api POST /api/v1/app '{"name":"l","uid":"l"}'

# ---- 1. the attack, with the limits on ----
"$SLOW" --connect "$HP" --bind 127.0.0.3 --count 100 --seconds 9 > "$T/headers.out" &
A1=$!
"$SLOW" --connect "$HP" --bind 127.0.0.4 --count 4 --seconds 9 --mode line > "$T/line.out" &
A2=$!
"$SLOW" --connect "$HP" --bind 127.0.0.5 --count 4 --seconds 9 --mode idle > "$T/idle.out" &
A3=$!
sleep 1
# a producer whose 600-byte body takes about 5 s to arrive: slower than
# the header deadline, yet only its headers are held to it
PAD=$(head -c 560 /dev/zero | tr '\0' a)
curl -s -o "$T/slowbody.body" -w '%{http_code} %{time_total}' --limit-rate 120 -m 15 \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    --data-binary "{\"eventType\":\"e\",\"payload\":{\"pad\":\"$PAD\"}}" \
    "$URL/api/v1/app/l/msg" > "$T/slowbody.code" &
B=$!
fails=0 worst=0
for i in $(seq 1 20); do
    r=$(curl -s -o /dev/null -m 2 -w '%{http_code} %{time_total}' -H "Authorization: Bearer $TOKEN" \
        "$URL/api/v1/app")
    [ "${r% *}" = 200 ] || fails=$((fails + 1))
    worst=$(awk -v a="$worst" -v b="${r#* }" 'BEGIN { print (b > a) ? b : a }')
    sleep 0.25
done
is "$fails" 0 "a normal client's 20 requests during the attack all succeeded"
ok "$(cond "$worst < 1")" "  each within 1 s (slowest ${worst} s)"
wait $A1 $A2 $A3 $B
diag "headers: $(cat "$T/headers.out")"
diag "line:    $(cat "$T/line.out")"
diag "idle:    $(cat "$T/idle.out")"
val() { sed -n "s/.*$2=\([-0-9]*\).*/\1/p" "$1"; }
ok "$(cond "$(val "$T/headers.out" refused) >= 80")" "the per-address limit turned away the attacker's surplus"
is "$(val "$T/headers.out" cut)" 16 "the 16 it let in were cut"
is "$(val "$T/headers.out" open)" 0 "none was left open"
ok "$(cond "$(val "$T/headers.out" cut_min_ms) >= 2500 && $(val "$T/headers.out" cut_max_ms) <= 4500")" \
    "  at the 3 s header deadline, though a byte arrived every second"
is "$(val "$T/line.out" cut)" 4 "a trickled request line is cut"
ok "$(cond "$(val "$T/line.out" cut_min_ms) >= 5500 && $(val "$T/line.out" cut_max_ms) <= 7500")" \
    "  at the 6 s idle deadline"
is "$(val "$T/idle.out" cut)" 4 "a silent connection is cut"
ok "$(cond "$(val "$T/idle.out" cut_min_ms) >= 5500 && $(val "$T/idle.out" cut_max_ms) <= 7500")" \
    "  at the 6 s idle timeout"
SB=$(cat "$T/slowbody.code")
is "${SB% *}" 202 "the slow body was received and acknowledged"
ok "$(cond "${SB#* } >= 3.5")" "  though it took longer than the header deadline (${SB#* } s)"
like "$(grep -c 'no complete request in time' "$T/hookd.err")" '^[1-9]' "the cuts are logged"
ok "$(cond "$(grep -c 'reached connection limit' "$T/hookd.err") <= 3")" \
    "  but 80 refusals do not make 80 log lines"
hookd_stop TERM

# ---- 2. the same attack without the per-address limit ----
rm -rf "$T/data"
hookd_start --max-connections 16 --max-connections-per-ip 0 --header-timeout 3s --idle-timeout 6s
HP=${URL#http://}
"$SLOW" --connect "$HP" --bind 127.0.0.3 --count 16 --seconds 6 > "$T/starve.out" &
A1=$!
sleep 1
r=$(curl -s -o /dev/null -m 1 -w '%{http_code}' "$URL/api/v1/health")
is "$r" 000 "without it, 16 slow connections starve a 16-connection server"
wait $A1
diag "starve:  $(cat "$T/starve.out")"
is "$(val "$T/starve.out" cut)" 16 "until the header deadline cuts them"
r=$(curl -s -o /dev/null -m 1 -w '%{http_code}' "$URL/api/v1/health")
is "$r" 200 "and the server is free again"
hookd_stop TERM

done_testing
