#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Cluster mode's NATS groundwork on three real nats-server processes
# (tests/cluster.sh): hookd cluster status before and after init, init's
# JetStream resources seen from the servers' own monitoring port, init run
# again (the same settings: nothing changes; others: refused), one NATS
# server killed and restarted, and the options' errors: bad URLs, nothing
# listening, serve --cluster.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster.sh"

nats_cluster_start 3
NATS_VERSION=$("$NATS_SERVER" --version | sed -n 's/^nats-server: v//p')
diag "nats-server $NATS_VERSION"
status() { OUT=$("$HOOKD" cluster status --cluster "$NATS_URLS" "$@" 2>&1); RC=$?; }
init() { OUT=$("$HOOKD" cluster init --cluster "$NATS_URLS" "$@" 2>&1); RC=$?; }
# stream_lines: status's lines of the four partition logs.
stream_lines() { printf '%s\n' "$OUT" | grep -E '^  hookd_log_[0-9]+ '; }

# ---- before init ----
status
is "$RC" 1 "status before init exits 1"
like "$OUT" 'status: not initialized \(run hookd cluster init\)' "status says not initialized"
is "$(printf '%s\n' "$OUT" | grep -Ec "^  nats://127\.0\.0\.1:[0-9]+ +n[123] +nats-server $NATS_VERSION, jetstream")" 3 \
   "status lists the 3 servers with their version and JetStream"
case $NATS_VERSION in
2.[0-9].*)
    like "$OUT" "WARNING: nats-server before 2\.10 \(n1 $NATS_VERSION, n2 $NATS_VERSION, n3 $NATS_VERSION\) acknowledges a write once a majority of the servers hold it in memory" \
         "status warns that 2.9 acknowledges from memory"
    like "$OUT" 'sync_interval: always' "the warning names the 2.10 setting that fsyncs first" ;;
*)
    like "$OUT" "note: nats-server .*sync_interval: always.* cannot be seen by a client" \
         "status says sync_interval cannot be verified"
    ok 0 "# SKIP no 2.9 warning on nats-server $NATS_VERSION" ;;
esac

# ---- init ----
init
is "$RC" 0 "init exits 0"
[ "$RC" = 0 ] || diag "$OUT"
for s in 0 1 2 3; do
    like "$OUT" "stream hookd_log_$s: created \(partitions $((s * 16))-$((s * 16 + 15)) of 64, 3 replicas\)" \
         "init creates hookd_log_$s with 16 partitions"
done
like "$OUT" 'bucket hookd_names: created \(3 replicas, no ttl\)' "init creates the names bucket"
like "$OUT" 'bucket hookd_leases: created \(3 replicas, ttl 10s\)' "init creates the leases bucket, ttl 10s"
like "$OUT" 'settings: created \(partitions 64, streams 4, replicas 3, log retention 7d, format 1\)' \
     "init writes the settings"

# What the servers themselves say (their monitoring port), not hookd.
JSZ=$(curl -s "http://127.0.0.1:$NATS_MPORT_2/jsz?accounts=true&streams=true&config=true")
streams() { printf '%s' "$JSZ" | jq -r "[.account_details[].stream_detail[] | $1] | sort | join(\" \")"; }
is "$(streams .name)" "KV_hookd_cluster KV_hookd_leases KV_hookd_names hookd_log_0 hookd_log_1 hookd_log_2 hookd_log_3" \
   "the servers hold 3 buckets and 4 logs"
is "$(streams 'select(.name | startswith("hookd_log_")) | "\(.config.num_replicas)/\(.config.retention)/\(.config.discard)/\(.config.storage)/\(.config.deny_delete)"' | tr ' ' '\n' | sort -u)" \
   "3/limits/old/file/true" "every log: R3, limits retention, discard old, file storage, no deletes"
is "$(streams 'select(.name == "hookd_log_1") | .config.subjects[]' | tr ' ' '\n' | sort -t. -k3 -n | sed -n '1p;$p' | tr '\n' ' ')" \
   "hookd.log.16 hookd.log.31 " "hookd_log_1 holds subjects hookd.log.16 to hookd.log.31"
is "$(streams 'select(.name == "hookd_log_0") | "\(.config.max_age)/\(.config.duplicate_window)/\(.config.max_msg_size)"')" \
   "604800000000000/120000000000/$((1048576 + 65536))" "max_age 7d, dedup window 2m, max_msg_size max-body + 64KiB"
is "$(streams 'select(.name == "KV_hookd_leases") | .config.max_age')" 10000000000 "leases expire after 10 s"

status
is "$RC" 0 "status after init exits 0"
like "$OUT" 'status: healthy' "status says healthy"
is "$(stream_lines | grep -Ec 'replicas 3, leader n[123], n[123] current, n[123] current; entries 0')" 4 \
   "status shows 4 logs, R3, each with a leader and two current replicas"
like "$OUT" 'settings: partitions 64, streams 4, replicas 3, log retention 7d, format 1; created 20[0-9-]+T' \
     "status shows the settings"

# ---- init again ----
init
is "$RC" 0 "init again with the same settings exits 0"
like "$OUT" 'cluster already initialized; nothing changed' "init again changes nothing"
is "$(printf '%s\n' "$OUT" | grep -c 'created')" 0 "init again creates nothing"
# A resource lost (deleted behind hookd's back): init makes it again.
# js_api SUBJECT: one JetStream API request in the NATS protocol, its answer.
js_api() {
    perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]", Timeout => 5) or die "connect: $!";
        $s->print("CONNECT {\"verbose\":false}\r\nSUB _INBOX.t 1\r\nPUB $ARGV[1] _INBOX.t 0\r\n\r\nPING\r\n");
        alarm 5;
        while (my $l = <$s>) { if ($l =~ /^MSG /) { print scalar <$s>; exit 0 } }
        exit 1' "$NATS_CPORT_1" "$1"
}
like "$(js_api '$JS.API.STREAM.DELETE.hookd_log_3')" '"success":true' "hookd_log_3 deleted behind hookd's back"
init
is "$RC" 0 "init on a cluster missing a stream exits 0"
like "$OUT" 'stream hookd_log_3: created' "init creates the missing stream again"
like "$OUT" 'cluster already initialized; what was missing is created again' "and says so"
init --partitions 32
is "$RC" 1 "init with other partitions exits 1"
like "$OUT" 'initialized with partitions 64, .*asks for partitions 32, .*cannot change' \
     "init with other partitions says which settings and refuses"
init --max-body 4MiB
is "$RC" 1 "init with a max-body above the servers' max_payload exits 1"
like "$OUT" "max_payload is 4194304 bytes; hookd needs $((4194304 + 65536))" "and says what max_payload needs"
init --partitions 4 --streams 8
is "$RC" 2 "more streams than partitions is a usage error"
init --partitions 128 --streams 65
is "$RC:$(printf '%s' "$OUT" | grep -c 'from 1 to 64')" "2:1" \
   "more than 64 streams (a node holds every partition group) is a usage error"

# ---- where: an app's partition, group and owner (no node runs: none) ----
OUT=$("$HOOKD" cluster where --cluster "$NATS_URLS" --app foobar 2>&1)
is "$?" 0 "cluster where exits 0"
# FNV-1a 64 of "foobar", mixed (part.c), is 0x2c22194922d1672b: partition 43 of 64, group 2 of 4
is "$OUT" "app foobar: partition 43 of 64, group 2 (log hookd_log_2, lease group.2), owner none" \
   "cluster where names the partition, the group, its log and lease, and no owner"
OUT=$("$HOOKD" cluster where --cluster "$NATS_URLS" 2>&1)
is "$?:$OUT" "2:hookd: which app? give --app ID_OR_UID" "cluster where without --app is a usage error"

# ---- one NATS server down ----
status
victim=$(stream_lines | sed -n 's/^  hookd_log_0 .*leader n\([123]\),.*/\1/p')
like "$victim" '^[123]$' "hookd_log_0 has a leader to kill"
nats_kill "$victim"
# after the election, every log has a leader again on the two left
leaders_back() {
    status
    [ "$(stream_lines | grep -Ec "leader n[123],")" = 4 ] && ! stream_lines | grep -q "leader n$victim,"
}
wait_for 30 leaders_back
ok $? "within 30 s every log has a leader again, none on the killed n$victim"
is "$RC" 1 "status with a server down exits 1"
like "$OUT" "status: degraded: nats://127\.0\.0\.1:[0-9]+ unreachable" "status says degraded: the server is unreachable"
eval "url=\$NATS_URL_$victim"
like "$OUT" "  $url +unreachable: connect: Connection refused" "status names the killed server"

nats_restart "$victim"
healthy() { status; [ "$RC" = 0 ]; }
wait_for 30 healthy
ok $? "within 30 s of its restart the cluster is healthy again"
[ "$RC" = 0 ] || diag "$OUT"

# ---- bad options, nothing listening ----
for bad in "http://127.0.0.1:4222" "nats://127.0.0.1" "nats://127.0.0.1:99999" \
           "nats://u:p@127.0.0.1:4222" "nats://127.0.0.1:4222,,nats://127.0.0.1:4223" \
           "nats://127.0.0.1:4222,tls://127.0.0.1:4223"; do
    OUT=$("$HOOKD" cluster status --cluster "$bad" 2>&1)
    RC=$?
    is "$RC" 2 "status --cluster '$bad' exits 2"
    like "$OUT" "invalid value '$bad' for option 'cluster'" "and names the option"
done
OUT=$("$HOOKD" cluster status 2>&1)
is "$?" 2 "status without --cluster exits 2"
like "$OUT" 'give --cluster nats://' "and says what to give"
OUT=$(HOOKD_CLUSTER="$NATS_URLS" "$HOOKD" cluster status 2>&1)
is "$?" 0 "HOOKD_CLUSTER works as --cluster"

dead=$(_free_ports 2 | sed 's|^|nats://127.0.0.1:|' | paste -sd, -)
start=$(date +%s)
OUT=$("$HOOKD" cluster status --cluster "$dead" 2>&1)
RC=$?
is "$RC" 2 "status with nothing listening exits 2"
like "$OUT" 'cannot connect to any NATS server of nats://127\.0\.0\.1:[0-9]+,nats://127\.0\.0\.1:[0-9]+' "and says it cannot connect"
like "$OUT" 'status: unreachable' "status: unreachable"
is "$(cond "$(date +%s) - $start <= 10")" 0 "within 10 s"
OUT=$("$HOOKD" cluster init --cluster "$dead" 2>&1)
is "$?" 2 "init with nothing listening exits 2"

OUT=$("$HOOKD" serve --data "$T/d" --cluster "$NATS_URLS" 2>&1)
is "$?" 2 "serve --cluster without --node-id exits 2"
like "$OUT" '--cluster needs --node-id' "and says --node-id is needed"
OUT=$("$HOOKD" serve --data "$T/d" --cluster "$NATS_URLS" --node-id 'no spaces' 2>&1)
is "$?" 2 "a bad --node-id exits 2"
like "$OUT" "invalid value 'no spaces' for option 'node-id'" "and names the option"
OUT=$("$HOOKD" serve --data "$T/d" --cluster "$NATS_URLS" --node-id hookd-a --cluster-role boss 2>&1)
is "$?" 2 "a bad --cluster-role exits 2"
like "$OUT" "invalid value 'boss' for option 'cluster-role'" "and names the option"
like "$OUT" "must be auto, owner or standby" "and says the roles"
OUT=$("$HOOKD" serve --data "$T/d" --cluster-role owner 2>&1)
is "$?" 2 "--cluster-role without --cluster exits 2"
like "$OUT" '--cluster-role goes with --cluster' "and says so"
OUT=$("$HOOKD" check-config --data "$T/d" --cluster "$NATS_URLS" 2>&1)
is "$?" 2 "check-config --cluster without --node-id exits 2"

done_testing
