#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The Debian package: `make deb` builds it, and its contents, control
# fields, maintainer scripts, unit, man page and default config are what an
# operator relies on. Nothing is installed on this machine: the maintainer
# scripts run with PATH holding only stubs that record their arguments.
. "$(dirname "$0")/lib.sh"
[ -x "$TOP/hookd" ] || bail "no server binary '$TOP/hookd' (run make)"
command -v dpkg-deb >/dev/null || skip_all "dpkg-deb not installed"
if readelf -d "$TOP/hookd" | grep -Eq 'NEEDED.*lib(a|ub|t|l)san'; then
    skip_all "sanitizer build: packages are made from a plain build"
fi

VERSION=$(cat "$TOP/VERSION")
ARCH=$(dpkg --print-architecture)
DEB=$T/out/hookd_${VERSION}_${ARCH}.deb
HELP=$("$TOP/hookd" serve --help)
# Option names of --help, without --help itself.
OPTIONS=$(printf '%s\n' "$HELP" | sed -n 's/^  --\([a-z][a-z0-9-]*\) .*/\1/p' | grep -v -x help)
like "$(echo $OPTIONS)" '^config listen data .*shutdown-timeout' "read the options from serve --help"

# ---- build ----
# prove runs under make: keep the parent's jobserver out of this make.
(unset MAKEFLAGS MFLAGS MAKELEVEL; make -s -C "$TOP" deb DEB_OUT="$T/out") >"$T/make.out" 2>&1
rc=$?
is "$rc" 0 "make deb exits 0"
[ "$rc" = 0 ] || sed 's/^/# /' "$T/make.out" >&2
[ -f "$DEB" ] || bail "no package '$DEB'"
like "$(tail -n 1 "$T/make.out")" "hookd_${VERSION}_${ARCH}\.deb\$" "make deb prints the package's path"

# ---- contents and modes ----
dpkg-deb -c "$DEB" >"$T/contents"
mode_of() { awk -v p="./$1" '$6 == p { print $1, $2 }' "$T/contents"; }
is "$(mode_of usr/bin/hookd)" "-rwxr-xr-x root/root" "usr/bin/hookd 0755 root"
for f in usr/share/man/man1/hookd.1.gz lib/systemd/system/hookd.service etc/hookd/hookd.conf \
         usr/share/doc/hookd/copyright usr/share/doc/hookd/README.md \
         usr/share/doc/hookd/docs/operations.md usr/share/doc/hookd/docs/API.md \
         usr/share/doc/hookd/docs/DESIGN.md usr/share/doc/hookd/docs/security.md \
         usr/share/doc/hookd/docs/performance.md usr/share/doc/hookd/docs/console-screens.txt \
         usr/share/hookd/grafana-dashboard.json \
         usr/share/doc/hookd/changelog.gz usr/share/lintian/overrides/hookd; do
    is "$(mode_of "$f")" "-rw-r--r-- root/root" "$f 0644 root"
done
is "$(grep -c '^-' "$T/contents")" 15 "no other files"
is "$(awk '$2 != "root/root"' "$T/contents" | wc -l | tr -d ' ')" 0 "everything owned by root"

# ---- lintian: clean at the pedantic level, overrides carry their reasons ----
if command -v lintian >/dev/null 2>&1; then
    lintian --pedantic -I "$DEB" >"$T/lintian" 2>"$T/lintian.err"
    tags=$(grep -E '^[EWIPX]: ' "$T/lintian")
    is "$tags" "" "lintian --pedantic reports nothing"
    [ -z "$tags" ] || diag "$tags"
else
    ok 1 "lintian --pedantic reports nothing (no lintian: packaging/deps.sh installs it)"
fi

dpkg-deb -x "$DEB" "$T/root"
dpkg-deb -e "$DEB" "$T/ctrl"
R=$T/root
# every document the README names under docs/ (but the man page, installed as
# such) is installed at that path beside it, so its links work
D=$R/usr/share/doc/hookd
missing=""
for f in $(grep -o 'docs/[A-Za-z-]*\.\(md\|txt\)' "$TOP/README.md" | sort -u); do
    [ -f "$D/$f" ] || missing="$missing $f"
done
is "$missing" "" "the documents the README links to are installed beside it"
missing=""
for f in $(grep -oh '[A-Za-z]*\.md' "$D"/docs/*.md | sort -u); do
    [ ! -f "$TOP/docs/$f" ] || [ -f "$D/docs/$f" ] || missing="$missing $f"
done
is "$missing" "" "the documents the installed documents name are installed beside them"
is "$("$R/usr/bin/hookd" version | head -n 1)" "hookd $VERSION" "the packaged binary runs and has the version"
if gzip -dc "$R/usr/share/man/man1/hookd.1.gz" | cmp -s - "$TOP/docs/hookd.1"; then ok 0 "man page is docs/hookd.1"; else ok 1 "man page is docs/hookd.1"; fi
if cmp -s "$R/etc/hookd/hookd.conf" "$TOP/packaging/hookd.conf"; then ok 0 "config is packaging/hookd.conf"; else ok 1 "config is packaging/hookd.conf"; fi

# ---- control ----
field() { dpkg-deb -f "$DEB" "$1"; }
is "$(field Package)" hookd "Package"
is "$(field Version)" "$VERSION" "Version from VERSION"
is "$(field Architecture)" "$ARCH" "Architecture"
like "$(field Maintainer)" '.+ <.+@.+>' "Maintainer"
like "$(field Installed-Size)" '^[1-9][0-9]*$' "Installed-Size"
like "$(field Description)" 'webhook' "Description"
DEPENDS=$(field Depends)
like "$DEPENDS" '(^|, )adduser(,|$)' "Depends on adduser (postinst uses it)"
# Every library the binary links must come from a package in Depends.
for lib in $(readelf -d "$TOP/hookd" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p'); do
    path=$(ldd "$TOP/hookd" | awk -v l="$lib" '$1 == l { print $3 }')
    pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path" 2>/dev/null)
    pkg=${pkg%%:*}
    like "$DEPENDS" "(^|, )$pkg( |,|\$)" "Depends has $pkg (for $lib)"
done
is "$(cat "$T/ctrl/conffiles")" /etc/hookd/hookd.conf "hookd.conf is a conffile"
is "$(cd "$R" && md5sum -c --quiet "$T/ctrl/md5sums" 2>&1; echo $?)" 0 "md5sums match every file"
is "$(wc -l < "$T/ctrl/md5sums" | tr -d ' ')" "$(grep -c '^-' "$T/contents" | tr -d ' ')" "md5sums lists every file"
like "$(zcat "$R/usr/share/doc/hookd/changelog.gz" | head -n 1)" "^hookd \\($VERSION\\) unstable; urgency=medium\$" \
     "the changelog names the version"
like "$(grep '^License:' "$R/usr/share/doc/hookd/copyright" | head -n 1)" '^License: Apache-2.0$' \
     "the copyright file says Apache-2.0"
for s in postinst prerm postrm; do
    if [ -x "$T/ctrl/$s" ] && sh -n "$T/ctrl/$s"; then ok 0 "$s executable, valid sh"; else ok 1 "$s executable, valid sh"; fi
done

# ---- maintainer scripts, against stubs ----
S=$T/stubs
mkdir -p "$S"
for c in adduser install dpkg-statoverride systemctl rm chown chmod useradd groupadd deb-systemd-invoke; do
    printf '#!/bin/sh\necho "%s $*" >> "%s/calls"\n' "$c" "$T" > "$S/$c"
done
# getent: the user and group exist only when STUB_EXISTS=1.
printf '#!/bin/sh\n[ "${STUB_EXISTS:-0}" = 1 ] && echo "hookd:x:999:999::/var/lib/hookd:/usr/sbin/nologin"\n[ "${STUB_EXISTS:-0}" = 1 ]\n' > "$S/getent"
printf '#!/bin/sh\necho "dpkg-statoverride $*" >> "%s/calls"\n[ "$1" != --list ]\n' "$T" > "$S/dpkg-statoverride"
# deb-systemd-helper: the unit was enabled before only when STUB_ENABLED=1.
printf '#!/bin/sh\necho "deb-systemd-helper $*" >> "%s/calls"\n[ "$2" != was-enabled ] || [ "${STUB_ENABLED:-0}" = 1 ]\n' "$T" > "$S/deb-systemd-helper"
chmod +x "$S"/*
# run SCRIPT ARGS...: the script with only the stubs on PATH; sets CALLS.
run() {
    : > "$T/calls"
    _s=$1
    shift
    env -i PATH="$S" STUB_EXISTS="${STUB_EXISTS:-0}" STUB_ENABLED="${STUB_ENABLED:-0}" /bin/sh "$T/ctrl/$_s" "$@" >"$T/script.out" 2>&1
    RC=$?
    CALLS=$(cat "$T/calls")
}

run postinst configure
is "$RC" 0 "postinst configure (first install) exits 0"
like "$CALLS" '^adduser --system --group --home /var/lib/hookd --no-create-home( --quiet)? hookd$' \
    "postinst creates the system user and group hookd"
if [ -d /var/lib/hookd ]; then
    ok 0 "# SKIP /var/lib/hookd exists on this machine"
else
    like "$CALLS" 'install -d -m 0700 -o hookd -g hookd /var/lib/hookd' "postinst creates /var/lib/hookd 0700 hookd"
fi
like "$CALLS" 'dpkg-statoverride --update --add root hookd 0640 /etc/hookd/hookd.conf' \
    "postinst makes hookd.conf root:hookd 0640"
if printf '%s\n' "$CALLS" | grep -Eq '^(systemctl .*(start|enable|restart)|deb-systemd-invoke .*start|deb-systemd-helper enable)'; then
    ok 1 "postinst starts and enables nothing on a first install"
else
    ok 0 "postinst starts and enables nothing on a first install"
fi
like "$CALLS" '^deb-systemd-helper update-state hookd.service$' \
    "postinst records the unit's state through deb-systemd-helper (for purge)"
if cat "$T/ctrl/postinst" "$T/ctrl/prerm" "$T/ctrl/postrm" | grep -v '^ *echo ' |
        grep -Eq '^[^#]*systemctl +(start|stop|restart|try-restart|enable|disable)'; then
    ok 1 "maintainer scripts start and stop units only through deb-systemd-invoke"
else
    ok 0 "maintainer scripts start and stop units only through deb-systemd-invoke"
fi
STUB_ENABLED=1 run postinst configure
like "$CALLS" '^deb-systemd-helper enable hookd.service$' "a unit the administrator had enabled stays enabled"

STUB_EXISTS=1 run postinst configure 0.0.1
is "$RC" 0 "postinst configure (upgrade) exits 0"
if printf '%s\n' "$CALLS" | grep -q '^adduser'; then ok 1 "an existing user is kept"; else ok 0 "an existing user is kept"; fi
if printf '%s\n' "$CALLS" | grep -Eq '(systemctl|deb-systemd-invoke) .*( start| enable| restart)'; then
    ok 1 "postinst upgrade at most try-restarts"
else
    ok 0 "postinst upgrade at most try-restarts"
fi

run prerm remove
is "$RC" 0 "prerm remove exits 0"
run postrm remove
is "$RC" 0 "postrm remove exits 0"
if printf '%s\n' "$CALLS" | grep -q '^rm .*/var/lib/hookd'; then ok 1 "remove keeps the data"; else ok 0 "remove keeps the data"; fi
run postrm purge
is "$RC" 0 "postrm purge exits 0"
like "$CALLS" '^rm -rf /var/lib/hookd' "purge deletes /var/lib/hookd"
like "$CALLS" '^deb-systemd-helper purge hookd.service$' "purge forgets the unit's enablement"
is "$(wc -c < "$T/script.out" | tr -d ' ')" 0 "purge asks and prints nothing"

# ---- the unit ----
U=$R/lib/systemd/system/hookd.service
for d in 'Type=notify' 'User=hookd' 'Group=hookd' 'NoNewPrivileges=yes' 'ProtectSystem=strict' \
         'ProtectHome=yes' 'PrivateTmp=yes' 'PrivateDevices=yes' 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
         'ReadWritePaths=/var/lib/hookd' 'StateDirectory=hookd' 'StateDirectoryMode=0700' \
         'ExecStart=/usr/bin/hookd serve --config /etc/hookd/hookd.conf' \
         'ExecReload=/bin/kill -HUP $MAINPID' 'Restart=on-failure' 'LimitNOFILE=65536'; do
    if grep -qxF "$d" "$U"; then ok 0 "unit: $d"; else ok 1 "unit: $d"; fi
done
stop_s=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$U")
shutdown_s=$(printf '%s\n' "$HELP" | sed -n 's/^  --shutdown-timeout .*(default: \([0-9]*\)s).*/\1/p')
ok "$(cond "${stop_s:-0} > ${shutdown_s:-999}")" "TimeoutStopSec (${stop_s}s) above shutdown-timeout (${shutdown_s}s)"
if command -v systemd-analyze >/dev/null; then
    # verify wants ExecStart to exist: point it at the packaged binary.
    sed "s#/usr/bin/hookd#$R/usr/bin/hookd#" "$U" > "$T/hookd.service"
    out=$(systemd-analyze verify --man=no "$T/hookd.service" 2>&1)
    is "$?:$out" "0:" "systemd-analyze verify passes"
else
    ok 0 "# SKIP systemd-analyze not installed"
fi

# Type=notify needs the binary to say READY=1 once it listens.
if perl -MIO::Socket::UNIX -e 1 2>/dev/null; then
    perl -MIO::Socket::UNIX -MSocket -e '
        my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $ARGV[0]) or die "$!\n";
        open(my $f, ">", "$ARGV[0].up"); close $f;
        $SIG{ALRM} = sub { exit 1 }; alarm 10;
        $s->recv(my $b, 256); print $b;' "$T/notify" >"$T/notify.got" 2>"$T/notify.err" &
    NPID=$!
    HOOKD_PIDS="$HOOKD_PIDS $NPID"
    wait_for 5 test -e "$T/notify.up"
    export NOTIFY_SOCKET="$T/notify"
    hookd_start
    unset NOTIFY_SOCKET
    wait "$NPID"
    is "$(cat "$T/notify.got")" "READY=1" "hookd serve sends READY=1 to NOTIFY_SOCKET"
    hookd_stop
else
    ok 0 "# SKIP perl IO::Socket::UNIX missing"
fi

# ---- the man page ----
if command -v man >/dev/null; then
    err=$(MANWIDTH=80 man --warnings -l "$R/usr/share/man/man1/hookd.1.gz" 2>&1 >/dev/null)
    is "$?:$err" "0:" "man -l renders hookd.1 without warnings"
else
    ok 0 "# SKIP man not installed"
fi
M=$TOP/docs/hookd.1
# An option's entry: a .B or .BI line whose first word is \-\-name.
for o in $OPTIONS help; do
    PAT="\\-\\-$(printf '%s' "$o" | sed 's/-/\\-/g')" awk '
        /^\.BI? / { w = $2; gsub(/"/, "", w); if (w == ENVIRON["PAT"]) f = 1 }
        END { exit !f }' "$M"
    ok $? "hookd.1 documents --$o"
done
for c in serve console backup check version; do
    if grep -Eq "^\.(B|BR|BI) \"?$c( |\"|\$)" "$M"; then ok 0 "hookd.1 documents '$c'"; else ok 1 "hookd.1 documents '$c'"; fi
done
for s in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS ENVIRONMENT SIGNALS FILES EXIT_STATUS EXAMPLES; do
    s=$(printf '%s' "$s" | tr _ ' ')
    if grep -Eqx "\.SH \"?$s\"?" "$M"; then ok 0 "hookd.1 has $s"; else ok 1 "hookd.1 has $s"; fi
done

# ---- the default config ----
C=$TOP/packaging/hookd.conf
# Setting lines: "name = value", commented out ("#name = value") or not.
settings=$(sed -n 's/^#\{0,1\}\([a-z][a-z0-9-]*\) = *\(.*\)$/\1 \2/p' "$C")
for o in $OPTIONS; do
    [ "$o" = config ] && continue
    if printf '%s\n' "$settings" | grep -q "^$o "; then ok 0 "hookd.conf has $o"; else ok 1 "hookd.conf has $o"; fi
done
like "$(grep -c -- '--config' "$C")" '^[1-9]' "hookd.conf explains why 'config' is not set in it"
for o in $(printf '%s\n' "$settings" | cut -d' ' -f1); do
    if printf '%s\n' "$OPTIONS" | grep -qx "$o"; then ok 0 "hookd.conf option $o exists"; else ok 1 "hookd.conf option $o exists"; fi
done
# A commented-out value claims to be the default: it must be --help's.
printf '%s\n' "$HELP" | sed -n 's/^  --\([a-z0-9-]*\) .*(default: \([^)]*\)).*/\1 \2/p' > "$T/defaults"
while read -r o def; do
    got=$(sed -n "s/^#$o = *//p" "$C")
    [ -n "$got" ] && is "$got" "$def" "hookd.conf: $o default"
done < "$T/defaults"
is "$(sed -n 's/^data = //p' "$C")" /var/lib/hookd "hookd.conf: data = /var/lib/hookd"
is "$(sed -n 's/^listen = //p' "$C")" 127.0.0.1:8071 "hookd.conf: listen = 127.0.0.1:8071"
# [reloadable] in --help <=> [reloadable] in the comment above the setting.
for o in $OPTIONS; do
    [ "$o" = config ] && continue
    want=no
    printf '%s\n' "$HELP" | grep -E "^  --$o .*\[reloadable\]" >/dev/null && want=yes
    got=$(awk -v o="$o" '/^$/ { c = "" } /^# / { c = c $0 } $0 ~ "^#?" o " =" { print (c ~ /reloadable/) ? "yes" : "no"; exit }' "$C")
    is "$got" "$want" "hookd.conf: $o reloadable: $want"
done
# Every default uncommented still loads: the file's syntax is hookd's.
sed -e 's/^#\([a-z][a-z0-9-]*\) = /\1 = /' "$C" | grep -v '^log-file =' > "$T/all.conf"
hookd_start --config "$T/all.conf"
api GET /api/v1/health
like "$STATUS" '^2' "hookd serves with every default of hookd.conf set"
hookd_stop

done_testing
