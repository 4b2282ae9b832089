#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0612: the console's application tokens dialog, driven in tmux. On the
# Endpoints screen `t` lists the tokens of the selected endpoint's
# application (never the token itself), `a` widens it to every
# application, and `x` then `y` revokes the selected token: the server
# refuses it from then on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tmux.sh"

hookd_start
api POST /api/v1/app '{"name":"Acme","uid":"acme"}'
api POST /api/v1/app/acme/endpoint '{"uid":"billing","url":"https://hooks.acme.example/billing"}'
is "$STATUS" 201 "setup: an endpoint of acme"
api POST /api/v1/app '{"name":"Globex","uid":"globex"}'
api POST /api/v1/auth/app-portal-access/acme '{"readOnly":true}'
RO=$(jqr .token) RO_ID=$(jqr .id)
api POST /api/v1/auth/app-portal-access/acme '{}'
FULL_ID=$(jqr .id)
api POST /api/v1/auth/app-portal-access/globex '{}'
GLOBEX_ID=$(jqr .id)
is "$STATUS" 200 "setup: three tokens, two for acme"

tm new-session -d -s t -x 110 -y 30 \
    "env -i PATH=\"$PATH\" HOME=\"$T\" TERM=xterm-256color LANG=C.UTF-8 PS1='t0612\$ ' sh"
sleep 0.3
keys "$HOOKD console --data $DATA" Enter
wait_screen 10 'hookd [0-9.]+ .*updated'
ok $? "the console starts"
keys 2
wait_screen 5 'hooks.acme.example/billing'
ok $? "the Endpoints screen shows acme's endpoint"
keys t
wait_screen 5 'Application tokens of acme \(2\)'
ok $? "t: the dialog lists acme's two tokens"
like "$(cap)" "$RO_ID +acme +$(printf '%.10s' "$RO")\.\.\. +read-only +in " \
     "a row: id, app, the token's first characters, read-only, when it expires"
like "$(cap)" "$FULL_ID +acme .* full " "the full token says full"
case $(cap) in *"$RO"*) ok 1 "the whole token is never shown" ;;
               *) ok 0 "the whole token is never shown" ;; esac
case $(cap) in *"$GLOBEX_ID"*) ok 1 "not globex's token" ;; *) ok 0 "not globex's token" ;; esac
keys a
wait_screen 5 'Application tokens of every application \(3\)'
ok $? "a: every application's tokens"
like "$(cap)" "$GLOBEX_ID +globex " "globex's token among them"
keys a
wait_screen 5 'Application tokens of acme \(2\)'
ok $? "a again: back to acme's"

# the newest first: the full token is on top; move to the read-only one
keys Down
keys x
wait_screen 5 "Revoke $RO_ID\? It is refused from then on"
ok $? "x asks before revoking the selected token"
like "$(cap)" "y Yes +n No" "with the keys to answer"
keys n
wait_screen 5 'x Revoke'
ok $? "n keeps it"
AUTH="Bearer $RO" api GET /api/v1/app/acme
is "$STATUS" 200 "the token still works"
keys x
keys y
wait_screen 5 "token $RO_ID revoked"
ok $? "y revokes it and says so"
wait_screen 5 'Application tokens of acme \(1\)'
ok $? "the list no longer has it"
AUTH="Bearer $RO" api GET /api/v1/app/acme
is "$STATUS" 401 "the server refuses the revoked token"
api GET /hookd/v1/tokens
is "$(jqr '[.data[].id] | sort | join(" ")')" "$(printf '%s\n%s\n' "$FULL_ID" "$GLOBEX_ID" | sort | tr '\n' ' ' | sed 's/ $//')" \
   "the other two are untouched"
keys Escape
wait_screen 5 'p Pause/resume'
ok $? "Esc closes the dialog"
keys '?'
wait_screen 5 't +the application.s tokens'
ok $? "the help lists t"
keys q

# at 80 columns every column that matters still shows
tm resize-window -t t -x 80 -y 24
keys 2
keys t
wait_screen 5 'Application tokens of acme \(1\)'
ok $? "80x24: the dialog opens"
like "$(cap)" "$FULL_ID +appsk_.{4}\.\.\. +full +in " "80x24: id, token, access and expiry"
keys a
wait_screen 5 "$GLOBEX_ID +globex +appsk_"
ok $? "80x24, every application: the application instead of the expiry"
keys Escape
keys q
wait_screen 5 '^t0612\$ *$'
ok $? "quits to the prompt"
done_testing
