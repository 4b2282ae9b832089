. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster.sh"
nats_cluster_start 3
build/tests/helpers/natspoke "$NATS_URLS" spy hookd.x -w 3000 > $T/o &
sleep 0.5
build/tests/helpers/natspoke "$NATS_URLS" pub hookd.x -H A:1 -H "Authorization:" -H B:2
wait
cat $T/o
