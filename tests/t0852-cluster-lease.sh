#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The partition group's lease (src/lease.c) on three real nats-server
# processes (tests/cluster.sh), driven by the hidden `hookd cluster
# lease-probe`, which runs the lease module alone and prints one line per
# event, "<unix ms> acquired epoch=N" | "lost reason=R" | "released". Two
# probes contend: exactly one acquires; the holder killed -9: the other
# acquires once the key expires (TTL 10 s), with the next epoch; a clean
# stop releases: the other acquires within about a second; the holder
# stopped (SIGSTOP) past 7/10 of the TTL: it fences itself and does not take the
# lease back; the NATS server leading the leases bucket killed -9: a holder
# again within 15 s. Throughout, never two holders at once, by the event
# lines' timestamps. The measured takeover times are printed (diag).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster.sh"

nats_cluster_start 3
OUT=$("$HOOKD" cluster init --cluster "$NATS_URLS" --partitions 4 --streams 1 2>&1)
is "$?" 0 "cluster init"

now_ms() { date +%s%3N; }
pfile() { echo "$T/probe-$1.out"; }
# probe_start NODE: a lease-probe for NODE on group.0; its events append to pfile NODE.
probe_start() {
    "$HOOKD" cluster lease-probe --cluster "$NATS_URLS" --node-id "$1" --for 600 \
        >>"$(pfile "$1")" 2>>"$T/probe-$1.err" &
    eval "PROBE_$1=$!"
    HOOKD_PIDS="$HOOKD_PIDS $!"
}
probe_pid() { eval "echo \$PROBE_$1"; }
# probe_kill NODE SIGNAL: signal it and wait; a SIGKILL is noted in its file
# (the process cannot say it), so that the overlap check knows it stopped holding.
probe_kill() {
    _pid=$(probe_pid "$1")
    [ "$2" = KILL ] && echo "$(now_ms) killed" >>"$(pfile "$1")"
    kill "-$2" "$_pid"
    wait "$_pid" 2>/dev/null
}
EVENTS='acquired|lost|released|stopped|release-failed|killed'
# last_event NODE: its last event's word.
last_event() { grep -E "^[0-9]+ ($EVENTS)" "$(pfile "$1")" 2>/dev/null | tail -n 1 | cut -d' ' -f2; }
holds() { [ "$(last_event "$1")" = acquired ]; }
# count NODE WORD
count() { grep -Ec "^[0-9]+ $2( |\$)" "$(pfile "$1")" 2>/dev/null; }
# at NODE WORD: the ms of its last such event.
at() { grep -E "^[0-9]+ $2( |\$)" "$(pfile "$1")" | tail -n 1 | cut -d' ' -f1; }
epoch_of() { grep -E '^[0-9]+ acquired ' "$(pfile "$1")" | tail -n 1 | sed 's/.*epoch=//'; }
one_holds() { holds "$1" || holds "$2"; }
# overlaps: event lines of every probe merged by time; prints each moment a
# node reports acquiring while another still reports holding.
overlaps() {
    for f in "$T"/probe-*.out; do
        n=${f##*/probe-}
        grep -E "^[0-9]+ ($EVENTS)" "$f" | sed "s/^\\([0-9]*\\) /\\1 ${n%.out} /"
    done | sort -n -k1,1 | awk '
        $3 == "acquired" { for (h in held) if (held[h] && h != $2) print $1, $2, "while", h; held[$2] = 1; next }
        { held[$2] = 0 }'
}
status_out() { "$HOOKD" cluster status --cluster "$NATS_URLS" 2>&1; }

# ---- usage ----
OUT=$("$HOOKD" cluster lease-probe --cluster "$NATS_URLS" --for 1 2>&1)
is "$?" 2 "lease-probe without --node-id exits 2"
like "$OUT" 'needs --node-id' "and says so"
OUT=$("$HOOKD" cluster lease-probe --cluster "$NATS_URLS" --node-id x --key 'bad key' --for 1 2>&1)
is "$?" 1 "lease-probe with a bad key exits 1"
like "$OUT" 'a lease key is letters, digits' "and says what a key is"
like "$(status_out)" 'leases: none held' "status before any lease: none held"

# ---- two contend: exactly one acquires ----
probe_start a
probe_start b
wait_for 10 one_holds a b
ok $? "one of two contending probes acquires within 10 s"
sleep 3
is "$(( $(count a acquired) + $(count b acquired) ))" 1 "exactly one acquired, and 3 s later still only one"
if holds a; then H=a O=b; else H=b O=a; fi
is "$(epoch_of $H)" 1 "the first acquisition has epoch 1"
STATUS=$(status_out)
like "$STATUS" "  group\\.0 +holder $H, epoch 1, renewed [0-2]\\.[0-9] s ago" \
     "status lists the lease: holder, epoch, renewed within the last 2 s (every TTL/10)"

# ---- kill -9 the holder: the other acquires after the key expires ----
E=$(epoch_of $H)
sleep 1
KILLED=$(now_ms)
probe_kill $H KILL
wait_for 20 holds $O
ok $? "kill -9 the holder: the other acquires within 20 s"
T_KILL=$(( $(at $O acquired) - KILLED ))
diag "takeover after kill -9 of the holder: $T_KILL ms (TTL 10000 ms, renewed every 1000 ms)"
is "$(cond "$T_KILL >= 7000 && $T_KILL <= 13000")" 0 \
   "it waits for the key to expire: between TTL - a renewal period - 1 s and TTL + 3 s"
is "$(epoch_of $O)" $((E + 1)) "with the next epoch"
like "$(status_out)" "  group\\.0 +holder $O, epoch $((E + 1)), renewed" "status shows the new holder and epoch"

# ---- a clean stop releases: the other acquires at once ----
probe_start $H            # the killed node back, as a standby
sleep 3
is "$(count $H acquired)" 1 "the restarted node does not acquire while the other holds"
E=$(epoch_of $O)
probe_kill $O TERM
wait_for 5 holds $H
ok $? "SIGTERM the holder: the standby acquires within 5 s"
like "$(tail -n 1 "$(pfile $O)")" '^[0-9]+ released by signal$' "the stopped holder says released"
T_REL=$(( $(at $H acquired) - $(at $O released) ))
diag "takeover after a clean stop (release): $T_REL ms"
is "$(cond "$T_REL >= 0 && $T_REL <= 2500")" 0 "within 2.5 s of the release (the standby polls every TTL/10)"
is "$(epoch_of $H)" $((E + 1)) "with the next epoch"

# ---- SIGSTOP the holder past its fencing point: it fences itself ----
probe_start $O
sleep 2
kill -STOP "$(probe_pid $H)"
# 7.5 s: past the fencing point (7/10 of the TTL after its last renewal,
# which was at most TTL/10 before the stop), and short of the expiry (TTL
# after it, so at least 9 s after the stop): it reports lost on waking,
# before the standby can acquire
sleep 7.5
kill -CONT "$(probe_pid $H)"
lost_silent() { [ "$(count $H lost)" -ge 1 ]; }
wait_for 3 lost_silent
ok $? "the holder stopped 7.5 s reports lost on SIGCONT"
like "$(grep ' lost ' "$(pfile $H)" | tail -n 1)" 'lost reason=renew-timeout' "lost by renew-timeout: self-fenced"
wait_for 10 holds $O
ok $? "the standby acquires once the key expires"
is "$(cond "$(at $H lost) < $(at $O acquired)")" 0 "the fenced holder's lost comes before the standby's acquired"
diag "SIGSTOP of the holder: it fenced itself $(( $(at $O acquired) - $(at $H lost) )) ms before the standby acquired"
N=$(count $H acquired)
sleep 13                   # past the TTL the fenced node waits before trying again
is "$(count $H acquired)" "$N" "the fenced node does not take the lease back while the other holds"
ok "$(holds $O; echo $?)" "the standby still holds"

# ---- kill -9 the NATS server leading the leases bucket ----
LEADER=$(status_out | sed -n 's/^  hookd_leases .*leader n\([123]\),.*/\1/p')
like "$LEADER" '^[123]$' "the leases bucket has a leader to kill (n$LEADER)"
HOLDER=$O
NA=$(count $H acquired) NB=$(count $O acquired) NL=$(count $HOLDER lost)
KILLED=$(now_ms)
nats_kill "$LEADER"
stable_holder() { holds $H || holds $O; }
sleep 1
wait_for 20 stable_holder
ok $? "a node holds the lease again within 21 s of killing the bucket's leader"
sleep 6                    # any loss shows by now (7/10 of the TTL without renewal)
wait_for 15 stable_holder
if [ "$(count $HOLDER lost)" = "$NL" ] && holds $HOLDER \
   && [ "$(count $H acquired)" = "$NA" ] && [ "$(count $O acquired)" = "$NB" ]; then
    diag "killing NATS server n$LEADER (the leases bucket's leader): the holder kept the lease"
    ok 0 "the holder kept the lease"
else
    if holds $H; then NEW=$H; else NEW=$O; fi
    T_NATS=$(( $(at $NEW acquired) - KILLED ))
    [ "$(count $HOLDER lost)" != "$NL" ] \
        && diag "killing NATS server n$LEADER (the leases bucket's leader): $HOLDER lost the lease $(( $(at $HOLDER lost) - KILLED )) ms after ($(grep ' lost ' "$(pfile $HOLDER)" | tail -n 1 | cut -d' ' -f3))"
    diag "killing NATS server n$LEADER (the leases bucket's leader): $NEW holds again $T_NATS ms after"
    is "$(cond "$T_NATS <= 15000")" 0 "a holder again within 15 s"
fi

nats_restart "$LEADER"
nats_wait_ready 30 || bail "no JetStream meta leader 30 s after n$LEADER's restart"

# ---- a release leaves the epoch in the delete marker ----
E=$(epoch_of $H)
[ "$(epoch_of $O)" -gt "$E" ] && E=$(epoch_of $O)
probe_kill $H TERM
probe_kill $O TERM
none_held() { status_out | grep -q 'leases: none held'; }
wait_for 10 none_held
ok $? "after both stopped, status: none held"
probe_start c              # a node that never saw the key's value
wait_for 5 holds c
ok $? "a fresh node acquires a released lease at once"
is "$(epoch_of c)" $((E + 1)) "with the epoch after the released one (read from the release marker)"
probe_kill c TERM

# ---- never two holders ----
is "$(overlaps)" "" "at no time did two nodes report holding the lease"
for n in a b c; do
    [ -s "$T/probe-$n.err" ] && diag "probe $n stderr: $(head -c 500 "$T/probe-$n.err")"
done
done_testing
