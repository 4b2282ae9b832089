# SPDX-License-Identifier: Apache-2.0
# tests/cluster.sh - a NATS JetStream cluster on loopback for the cluster
# tests (after lib.sh):
#
#   . "$(dirname "$0")/cluster.sh"  # skips the test without cluster mode
#   nats_cluster_start 3            # n1..n3; sets NATS_URLS, NATS_URL_1..3
#   "$HOOKD" cluster status --cluster "$NATS_URLS"
#   nats_kill 2; nats_restart 2
#
# NATS_MAX_PAYLOAD (bytes, default 4 MiB) sets the servers' max_payload;
# NODE_ARGS adds options to every node_start.
#
# Each server has its own store under $T/nats/nI, a client, a route and a
# monitoring port on 127.0.0.1 (free ones, from the kernel), JetStream with
# small limits, and routes to all the others. Every server is stopped at
# exit with the rest of the test's processes (lib.sh's cleanup): nothing
# outlives the test, and tests run side by side (prove -j2) never share a
# port or a directory.

"$HOOKD" cluster --help >/dev/null 2>&1 || skip_all "hookd was built without cluster mode (./configure --without-cluster)"
NATS_SERVER=$(command -v nats-server) \
    || bail "no nats-server: run sh packaging/deps.sh --test (it unpacks it into build/tools/bin)"
NATS_N=0
NATS_URLS=""

# _free_ports N: N distinct free loopback TCP ports, one a line. They are
# held open together, so they differ; another process may still take one
# before nats-server binds it, which nats_start then reports.
_free_ports() {
    perl -MIO::Socket::INET -e '
        my @s;
        for (1 .. $ARGV[0]) {
            my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0,
                                          Listen => 1, Proto => "tcp") or die "no port: $!";
            push @s, $s;
            print $s->sockport, "\n";
        }' "$1"
}

# _nats_conf I: write server I's configuration.
_nats_conf() {
    _routes=""
    _j=1
    while [ $_j -le $NATS_N ]; do
        eval "_rp=\$NATS_RPORT_$_j"
        _routes="$_routes nats-route://127.0.0.1:$_rp"
        _j=$((_j + 1))
    done
    eval "_cp=\$NATS_CPORT_$1 _rp=\$NATS_RPORT_$1 _mp=\$NATS_MPORT_$1"
    mkdir -p "$T/nats/n$1"
    cat > "$T/nats/n$1.conf" <<CONF
server_name: n$1
listen: 127.0.0.1:$_cp
http: 127.0.0.1:$_mp
# above hookd's max-body (1MiB) and a log entry's envelope
max_payload: ${NATS_MAX_PAYLOAD:-4194304}
jetstream {
    store_dir: "$T/nats/n$1"
    max_memory_store: 64MB
    max_file_store: 256MB
}
cluster {
    name: hookd-test
    listen: 127.0.0.1:$_rp
    routes: [$(echo $_routes | sed 's/ /, /g')]
}
CONF
}

# nats_start I: start server I (configured by nats_cluster_start).
nats_start() {
    "$NATS_SERVER" -c "$T/nats/n$1.conf" >>"$T/nats/n$1.log" 2>&1 &
    eval "NATS_PID_$1=$!"
    HOOKD_PIDS="$HOOKD_PIDS $!"
    if ! wait_for 10 _nats_up "$1"; then
        tail -n 20 "$T/nats/n$1.log" | sed 's/^/# /' >&2
        bail "nats-server n$1 did not start"
    fi
}
# _nats_up I: server I answers on its monitoring port.
_nats_up() {
    eval "_mp=\$NATS_MPORT_$1"
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$_mp/varz")" = 200 ]
}

# nats_cluster_start N: N servers in one cluster, JetStream ready on all
# (a meta leader known to every server) within 30 s, or bail.
nats_cluster_start() {
    NATS_N=$1
    mkdir -p "$T/nats"
    _ports=$(_free_ports $((3 * NATS_N))) || bail "no free ports"
    _i=1
    NATS_URLS=""
    for _p in $_ports; do
        _s=$(( (_i - 1) / 3 + 1 ))
        case $(( (_i - 1) % 3 )) in
        0) eval "NATS_CPORT_$_s=$_p NATS_URL_$_s=nats://127.0.0.1:$_p"
           NATS_URLS="$NATS_URLS${NATS_URLS:+,}nats://127.0.0.1:$_p" ;;
        1) eval "NATS_RPORT_$_s=$_p" ;;
        2) eval "NATS_MPORT_$_s=$_p" ;;
        esac
        _i=$((_i + 1))
    done
    _i=1
    while [ $_i -le $NATS_N ]; do _nats_conf $_i; _i=$((_i + 1)); done
    _i=1
    while [ $_i -le $NATS_N ]; do nats_start $_i; _i=$((_i + 1)); done
    nats_wait_ready 30 || bail "the NATS cluster elected no JetStream meta leader in 30 s"
}

# nats_meta_leader I: the meta leader server I knows of ("" if none).
nats_meta_leader() {
    eval "_mp=\$NATS_MPORT_$1"
    curl -s --max-time 2 "http://127.0.0.1:$_mp/jsz" | jq -r '.meta_cluster.leader // ""' 2>/dev/null
}

# _nats_ready: every running server knows a meta leader.
_nats_ready() {
    _k=1
    while [ $_k -le $NATS_N ]; do
        eval "_pid=\$NATS_PID_$_k"
        if [ -n "$_pid" ] && kill -0 "$_pid" 2>/dev/null; then
            [ -n "$(nats_meta_leader $_k)" ] || return 1
        fi
        _k=$((_k + 1))
    done
    return 0
}

# nats_wait_ready SECONDS: until _nats_ready; 1 on timeout.
nats_wait_ready() { wait_for "$1" _nats_ready; }

# nats_kill I [SIGNAL]: stop server I (SIGKILL by default) and wait for it.
nats_kill() {
    eval "_pid=\$NATS_PID_$1"
    kill "-${2:-KILL}" "$_pid" 2>/dev/null
    wait "$_pid" 2>/dev/null
    eval "NATS_PID_$1="
}

# nats_restart I: start server I again on its ports and store.
nats_restart() { nats_start "$1"; }

# cluster_up [INIT_ARGS...]: three servers (nats_cluster_start 3) and `hookd
# cluster init` on them; bails out when either fails. One partition group
# (--streams 1) unless INIT_ARGS name --streams: most cluster tests are of one
# group's owner and standbys, which then never moves to spread groups.
cluster_up() {
    nats_cluster_start 3
    case " $* " in *" --streams "*) ;; *) set -- --streams 1 "$@" ;; esac
    OUT=$("$HOOKD" cluster init --cluster "$NATS_URLS" "$@" 2>&1) || { diag "$OUT"; bail "cluster init failed"; }
}

# ---- hookd nodes of a cluster (tests t0851, t0853) ----

# node_start NAME [ROLE]: a hookd node on $NATS_URLS with data in $T/NAME (no
# ROLE: the default, auto), logging at $NODE_LOG_LEVEL (warn); sets URL_NAME and
# PID_NAME.
node_start() {
    rm -f "$T/$1/listen"
    "$HOOKD" serve --listen 127.0.0.1:0 --data "$T/$1" --log-level "${NODE_LOG_LEVEL:-warn}" \
        --allow-network 127.0.0.0/8 --retry-schedule 1s,1s \
        --cluster "$NATS_URLS" --node-id "$1" ${2:+--cluster-role "$2"} ${NODE_ARGS:-} \
        >>"$T/$1.out" 2>>"$T/$1.err" &
    eval "PID_$1=$!"
    HOOKD_PIDS="$HOOKD_PIDS $!"
    _i=0
    while [ ! -s "$T/$1/listen" ]; do
        _i=$((_i + 1))
        if [ $_i -gt 300 ] || ! eval "kill -0 \$PID_$1" 2>/dev/null; then
            tail -n 20 "$T/$1.err" >&2
            bail "hookd node $1 did not start"
        fi
        sleep 0.05
    done
    eval "URL_$1=http://$(cat "$T/$1/listen")"
}
# node_stop NAME [SIGNAL]: sets NODE_RC.
node_stop() {
    eval "_pid=\$PID_$1"
    kill "-${2:-TERM}" "$_pid" 2>/dev/null
    wait "$_pid" 2>/dev/null
    NODE_RC=$?
}
# on NAME: the next api calls go to node NAME.
on() { eval "URL=\$URL_$1"; }
# role_of NAME: the node's cluster.role ("" when it does not answer).
role_of() {
    eval "_u=\$URL_$1"
    curl -s --max-time 2 -H "Authorization: Bearer $TOKEN" "$_u/hookd/v1/stats" \
        | jq -r '.cluster.role // empty' 2>/dev/null
}
is_owner() { [ "$(role_of "$1")" = owner ]; }
# pair_up: nodes a and b started; one assertion that one of them owns the log
# within 20 s; OWNER and OTHER name them.
pair_up() {
    node_start a
    node_start b
    wait_for 20 one_owner
    ok $? "exactly one of the two nodes owns the log ($(role_of a)/$(role_of b))"
    if is_owner a; then OWNER=a OTHER=b; else OWNER=b OTHER=a; fi
}
# one_owner: exactly one of the nodes a and b says owner, the other standby.
one_owner() {
    _ra=$(role_of a) _rb=$(role_of b)
    [ "$_ra $_rb" = "owner standby" ] || [ "$_ra $_rb" = "standby owner" ]
}
# seq_of NAME: the node's cluster.seq from GET /hookd/v1/stats.
seq_of() { on "$1"; api GET /hookd/v1/stats; jqr .cluster.seq; }
# log_stream JQ: JQ of the stream hookd_log_0, as a running NATS server reports it (/jsz).
log_stream() {
    for _k in 1 2 3; do
        eval "_pid=\$NATS_PID_$_k _mp=\$NATS_MPORT_$_k"
        [ -n "$_pid" ] || continue
        curl -s --max-time 2 "http://127.0.0.1:$_mp/jsz?streams=true" \
            | jq -r "[.account_details[]?.stream_detail[]? | select(.name == \"hookd_log_0\") | $1] | max // empty"
        return
    done
}
log_last() { log_stream .state.last_seq; }
# at_log_end NAME: node NAME applied the log to its end.
at_log_end() { _l=$(log_last); [ -n "$_l" ] && [ "$(seq_of "$1")" = "$_l" ]; }
# posted_reaches NAME AFTER WHO: a message ({"after":"AFTER"}) posted to the
# application shop on node a, the owner; node NAME (WHO, as the descriptions
# say) follows the log to its end and serves it: three assertions. Sets
# LASTID to its id; the next api calls go to NAME.
posted_reaches() {
    on a
    api POST /api/v1/app/shop/msg "{\"eventType\":\"e\",\"payload\":{\"after\":\"$2\"}}"
    is "$STATUS" 202 "a message after the $2, posted on the owner (a)"
    LASTID=$(jqr .id)
    wait_for 20 at_log_end "$1"
    ok $? "$3 ($1) follows the log to its end"
    on "$1"
    api GET "/api/v1/app/shop/msg/$LASTID"
    is "$STATUS" 200 "$3 ($1) holds that message"
}

# poke ARGS...: tests/helpers/natspoke on this cluster's servers, a bare NATS
# client that publishes, spies and answers what no hookd node would (the
# attack tests). Checked when called, so that the cluster tests that never
# poke do not need it built.
POKE=$TOP/build/tests/helpers/natspoke
poke() {
    [ -x "$POKE" ] || { diag "no $POKE: make build/tests/helpers/natspoke"; return 127; }
    "$POKE" "$NATS_URLS" "$@"
}

# stores_equal A B DESCRIPTION: one assertion that `hookd check --compare`
# finds the stores in $T/A and $T/B equal (stopped nodes); the first
# differences on stderr when not.
stores_equal() {
    _out="$T/compare-$(echo "$1-$2" | tr / _).out"   # A may be a group's: a/group.1
    "$HOOKD" check --compare "$T/$1" "$T/$2" >"$_out" 2>&1
    _rc=$?
    [ $_rc = 0 ] || head -n 30 "$_out" | sed 's/^/#   /' >&2
    is "$_rc" 0 "$3"
}
