#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0760: TLS. The listener serves HTTPS with --tls-cert/--tls-key (a
# self-signed certificate made here), DIR/listen says https://, plain HTTP
# to that port gets no answer, and bad certificate or key files stop the
# start with an error naming the file. Deliveries verify receivers'
# certificates: a self-signed receiver fails with a certificate error in
# the attempt until hookd trusts it with --ca-file. The console (in tmux,
# when it is installed) refuses the self-signed listener with advice, and
# reaches it with --ca-file.
. "$(dirname "$0")/lib.sh"
[ -x "$RECEIVER" ] || bail "no receiver '$RECEIVER' (run make build/tests/helpers/receiver)"

# mkcert NAME: $T/NAME.crt and $T/NAME.key (mode 0600), self-signed for
# localhost and 127.0.0.1, with openssl or else GnuTLS's certtool.
mkcert() {
    if command -v openssl >/dev/null 2>&1; then
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
            -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
            -keyout "$T/$1.key" -out "$T/$1.crt" 2>"$T/mkcert.err" || return 1
    elif command -v certtool >/dev/null 2>&1; then
        printf '%s\n' 'cn = "localhost"' 'dns_name = "localhost"' 'ip_address = "127.0.0.1"' \
            'expiration_days = 2' 'ca' 'cert_signing_key' 'signing_key' 'tls_www_server' \
            > "$T/$1.tmpl"
        certtool --generate-privkey --key-type=ecdsa --outfile "$T/$1.key" 2>"$T/mkcert.err" &&
        certtool --generate-self-signed --load-privkey "$T/$1.key" --template "$T/$1.tmpl" \
            --outfile "$T/$1.crt" 2>>"$T/mkcert.err" || return 1
    else
        return 2
    fi
    chmod 600 "$T/$1.key"
}
mkcert srv
case $? in
0) ;;
2) skip_all "neither openssl nor certtool is installed (sh packaging/deps.sh --test installs openssl)" ;;
*) cat "$T/mkcert.err" >&2; bail "cannot make a test certificate" ;;
esac
mkcert other || bail "cannot make a second certificate"
mkcert rcv || bail "cannot make the receiver's certificate"

# ---- the listener ----
hookd_start --tls-cert "$T/srv.crt" --tls-key "$T/srv.key"
like "$(cat "$DATA/listen")" '^https://127\.0\.0\.1:[0-9]+$' "DIR/listen records an https URL"
like "$URL" '^https://' "the test helper reads it as given"
code=$(curl -s -o "$T/h" -w '%{http_code}' --cacert "$T/srv.crt" "$URL/api/v1/health")
is "$code" 200 "curl --cacert reaches /api/v1/health over HTTPS"
api GET /api/v1/app "" --cacert "$T/srv.crt"
is "$STATUS" 200 "an authenticated API call works over HTTPS"
curl -s -o /dev/null "$URL/api/v1/health"
is "$?" 60 "without the CA, curl refuses the self-signed certificate (exit 60)"
HOSTPORT=${URL#https://}
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$HOSTPORT/api/v1/health")
rc=$?
ok "$(cond "$rc != 0")" "plain HTTP to the TLS port fails (curl exit $rc, status $code)"
is "$code" 000 "and gets no HTTP answer"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/srv.crt" "$URL/api/v1/health")
is "$code" 200 "hookd still serves HTTPS after the plain request"
like "$(cat "$T/hookd.out")" 'listening on https://' "the start-up line says https"
if grep -q "readable by every user" "$T/hookd.err"; then ok 1 "no warning for a 0600 key"; else ok 0 "no warning for a 0600 key"; fi

# ---- the console against the TLS listener ----
if command -v tmux >/dev/null 2>&1; then
    TMUX_SOCK="hookd-t0760-$$"
    tm() { LC_ALL=C.UTF-8 tmux -L "$TMUX_SOCK" -f /dev/null "$@"; }
    trap 'tm kill-server 2>/dev/null; _cleanup' EXIT
    # console NAME ARGS...: start the console in tmux window NAME; its
    # stderr goes to $T/NAME.err and its exit code to $T/NAME.rc.
    console() {
        _w=$1
        shift
        tm new-window -d -n "$_w" "TERM=xterm-256color $HOOKD console --data $DATA $* \
            2>$T/$_w.err; echo \$? > $T/$_w.rc; sleep 60"
    }
    exited() { [ -s "$T/$1.rc" ]; }
    shows() { tm capture-pane -p -t "$1" | grep -Eq -- "$2"; }
    tm new-session -d -s c -x 100 -y 30 "sleep 600"
    console plain
    wait_for 10 exited plain
    is "$(cat "$T/plain.rc" 2>/dev/null)" 1 "console: without --ca-file, the self-signed listener stops it (exit 1)"
    like "$(cat "$T/plain.err")" "certificate this machine does not trust.*pass --ca-file" \
        "console: the error says the certificate is not trusted and what to pass"
    console other --ca-file "$T/other.crt"
    wait_for 10 exited other
    is "$(cat "$T/other.rc" 2>/dev/null)" 1 "console: a CA file that did not sign the listener's certificate does not help"
    console missing --ca-file "$T/nope.pem"
    wait_for 10 exited missing
    is "$(cat "$T/missing.rc" 2>/dev/null)" 1 "console: a missing --ca-file stops it"
    like "$(cat "$T/missing.err")" "cannot read --ca-file '$T/nope.pem': No such file" \
        "console: ... with an error naming the file"
    printf 'not a certificate\n' > "$T/notca.pem"
    console junk --ca-file "$T/notca.pem"
    wait_for 10 exited junk
    is "$(cat "$T/junk.rc" 2>/dev/null)" 1 "console: a --ca-file of junk stops it"
    like "$(cat "$T/junk.err")" "cannot use --ca-file '$T/notca.pem'" "console: ... naming the file"
    console trusted --ca-file "$T/srv.crt"
    wait_for 10 shows trusted "hookd [0-9.]+ +${URL#https://} .*updated"
    ok $? "console: with --ca-file it shows the overview of the https server"
    tm send-keys -t trusted q
    wait_for 10 exited trusted
    is "$(cat "$T/trusted.rc" 2>/dev/null)" 0 "console: q quits it with exit 0"
    [ -s "$T/trusted.err" ] && diag "console stderr: $(cat "$T/trusted.err")"
    tm kill-server 2>/dev/null
else
    for i in 1 2 3 4 5 6 7 8 9; do ok 0 "# SKIP tmux is not installed"; done
fi

hookd_stop TERM
is "$HOOKD_RC" 0 "the TLS server stops cleanly"

chmod 644 "$T/srv.key"
hookd_start --tls-cert "$T/srv.crt" --tls-key "$T/srv.key"
like "$(cat "$T/hookd.err")" "readable by every user.*srv\.key" "a world-readable key is warned about, by name"
hookd_stop TERM
chmod 600 "$T/srv.key"

# ---- bad files: a clear error naming the file, exit 2, nothing listening ----
# start_fails NAME PATTERN ARGS...: hookd serve must exit 2 with PATTERN on stderr.
start_fails() {
    _name=$1 _pat=$2
    shift 2
    rm -rf "$T/bad"
    "$HOOKD" serve --listen 127.0.0.1:0 --data "$T/bad" "$@" >/dev/null 2>"$T/bad.err"
    _rc=$?
    is "$_rc" 2 "$_name: exit 2"
    like "$(cat "$T/bad.err")" "$_pat" "$_name: the error says why"
    if [ -e "$T/bad/listen" ]; then ok 1 "$_name: never listened"; else ok 0 "$_name: never listened"; fi
}
printf 'not a certificate\n' > "$T/junk.pem"
start_fails "cert without key" "'tls-cert' is set without 'tls-key'" --tls-cert "$T/srv.crt"
start_fails "key without cert" "'tls-key' is set without 'tls-cert'" --tls-key "$T/srv.key"
start_fails "missing certificate" "cannot read tls certificate '$T/nope.crt': no such file" \
    --tls-cert "$T/nope.crt" --tls-key "$T/srv.key"
start_fails "missing key" "cannot read tls key '$T/nope.key'" \
    --tls-cert "$T/srv.crt" --tls-key "$T/nope.key"
start_fails "key given as certificate" "tls certificate '$T/srv.key' holds no PEM certificate" \
    --tls-cert "$T/srv.key" --tls-key "$T/srv.key"
start_fails "junk key" "tls key '$T/junk.pem' holds no PEM private key" \
    --tls-cert "$T/srv.crt" --tls-key "$T/junk.pem"
start_fails "another certificate's key" "tls key '$T/other.key' does not belong to the certificate in '$T/srv.crt'" \
    --tls-cert "$T/srv.crt" --tls-key "$T/other.key"
sed '2s/^.\{8\}/AAAAAAAA/' "$T/srv.crt" > "$T/corrupt.crt"
start_fails "corrupt certificate" "tls certificate '$T/corrupt.crt' does not parse" \
    --tls-cert "$T/corrupt.crt" --tls-key "$T/srv.key"
start_fails "missing ca file" "cannot read ca file '$T/nope.pem'" --ca-file "$T/nope.pem"
start_fails "junk ca file" "ca file '$T/junk.pem' holds no PEM certificate" --ca-file "$T/junk.pem"

# ---- a TLS receiver with a self-signed certificate ----
receiver_start --tls-cert "$T/rcv.crt" --tls-key "$T/rcv.key"
like "$RURL" '^https://127\.0\.0\.1:' "the receiver serves HTTPS"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/rcv.crt" -d '{}' "$RURL/probe/ok")
is "$code" 200 "the receiver answers curl --cacert"
rm -rf "$T/data"
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s,1s,1s,1s,1s,1s,1s,1s,1s,1s
api POST /api/v1/app '{"name":"t","uid":"t"}'
api POST /api/v1/app/t/endpoint "{\"uid\":\"tls\",\"url\":\"$RURL/tls/ok\"}"
EP=$(jqr .id)
api POST /api/v1/app/t/msg '{"eventType":"e","payload":{"n":1}}'
MSG=$(jqr .id)
cert_refused() {
    api GET "/api/v1/app/t/attempt/endpoint/$EP"
    [ "$(jqr '[.data[]|select(.responseStatusCode==0 and (.response|test("certificate|SSL";"i")))]|length')" -ge 1 ]
}
wait_for 10 cert_refused
ok $? "an untrusted receiver certificate fails the attempt with a certificate error"
diag "attempt response: $(jqr '.data[0].response')"
is "$(jqr '.data[0].status')" 2 "the attempt is recorded as failed"
is "$(received '(.path|startswith("/tls"))')" 0 "no request reached the receiver"
hookd_stop TERM
is "$HOOKD_RC" 0 "hookd stops cleanly"

hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s,1s,1s,1s,1s,1s,1s,1s,1s,1s \
    --ca-file "$T/rcv.crt"
wait_received ".id==\"$MSG\" and .path==\"/tls/ok\"" 1 15
ok $? "with --ca-file trusting it, the retry reaches the TLS receiver"
delivered() {
    api GET "/api/v1/app/t/attempt/endpoint/$EP"
    [ "$(jqr '[.data[]|select(.responseStatusCode==200)]|length')" -ge 1 ]
}
wait_for 10 delivered
ok $? "and the attempt records 200"
api POST /api/v1/app/t/msg '{"eventType":"e","payload":{"n":2}}'
M2=$(jqr .id)
wait_received ".id==\"$M2\" and .status==200" 1
ok $? "a new message is delivered over TLS at once"
api GET /api/v1/health
is "$STATUS" 200 "hookd is healthy"
hookd_stop TERM

done_testing
