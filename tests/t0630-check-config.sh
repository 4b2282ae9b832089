#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0630: `hookd check-config` and `hookd serve --check-config` validate the
# configuration as serve would load it and start nothing (like nginx -t):
# exit 0 with the effective settings, or 2 with every problem named; and
# the start-up log line names the settings an operator must confirm.
. "$(dirname "$0")/lib.sh"

# cc ARGS...: hookd ARGS; sets OUT, ERR, RC.
cc() {
    "$HOOKD" "$@" >"$T/cc.out" 2>"$T/cc.err"
    RC=$?
    OUT=$(cat "$T/cc.out")
    ERR=$(cat "$T/cc.err")
}

cc check-config --data "$T/fresh" --allow-network 127.0.0.0/8 --retry-schedule 5s,50s --workers 3
is "$RC" 0 "a good configuration: exit 0"
is "$(printf '%s\n' "$OUT" | tail -n 1)" "configuration ok" "and says so"
is "$(printf '%s\n' "$OUT" | head -n 1)" \
   "config=(none) listen=127.0.0.1:8071 data=$T/fresh workers=3 allow_network=127.0.0.0/8 retry_schedule=5s,50s" \
   "the effective settings on one line"
[ -e "$T/fresh" ]; is "$?" 1 "nothing was created (no data directory)"

cc check-config --config "$TOP/packaging/hookd.conf" --data "$T/d"
is "$RC:$(printf '%s\n' "$OUT" | tail -n 1)" "0:configuration ok" "the packaged hookd.conf checks"
like "$OUT" "^config=$TOP/packaging/hookd.conf " "and the summary names the file"

# every problem at once, each naming its option and file
: > "$T/empty.pem"
echo x > "$T/file"
cc serve --check-config --tls-cert "$T/empty.pem" --tls-key "$T/empty.pem" \
   --data "$T/file" --log-file "$T/nodir/hookd.log"
is "$RC" 2 "serve --check-config with bad files: exit 2"
like "$ERR" "certificate '$T/empty.pem'" "names the certificate"
like "$ERR" "data directory '$T/file' is not a directory" "names the data directory"
like "$ERR" "log-file '$T/nodir/hookd.log' cannot be created in '$T/nodir'" "names the log file"
is "$OUT" "" "prints no summary when it fails"

printf 'listen = 127.0.0.1:8071\nretry-schedule = 10s,\n' > "$T/bad.conf"
cc check-config --config "$T/bad.conf"
is "$RC" 2 "a config file with a bad value: exit 2"
like "$ERR" "'$T/bad.conf' line 2" "names the file and the line"

cc check-config --bogus
is "$RC" 2 "an unknown option: exit 2"

# serve --check-config binds nothing: the port of a running server is fine
hookd_start --allow-network 127.0.0.0/8
cc serve --check-config --listen "${URL#http://}" --data "$T/other"
is "$RC" 0 "serve --check-config beside a server on the same port: exit 0 (binds nothing)"
hookd_stop TERM

# the start-up log line
HOOKD_LOG_ARGS="--log-level info" hookd_start --allow-network 127.0.0.0/8 --retry-schedule 2s,20s
line=$(grep 'msg=listening' "$T/hookd.err" | tail -n 1)
like "$line" "config=\(none\) " "start-up line: config"
like "$line" "workers=[0-9]+ " "start-up line: workers"
like "$line" "allow_network=127.0.0.0/8 " "start-up line: allow_network"
like "$line" "retry_schedule=2s,20s( |$)" "start-up line: retry_schedule"
like "$line" "data=$T/data " "start-up line: data"
done_testing
