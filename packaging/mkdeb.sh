#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Build the hookd Debian package from the binary `make` built, with
# dpkg-deb alone (no debhelper): stage the files with their modes, write
# DEBIAN/, build. Called by `make deb`; prints the path of the .deb.
#
#   sh packaging/mkdeb.sh [OUTDIR]    (default: build; the staging tree is OUTDIR/deb)
#
# Depends: is computed from the libraries the binary links: dpkg-shlibdeps
# when dpkg-dev is installed (versioned, from the libraries' symbols files),
# else the package owning each NEEDED library (dpkg -S), unversioned.
# MAINTAINER overrides the Maintainer: field; SOURCE_DATE_EPOCH (default:
# the last commit's time) fixes file times, so a rebuild is identical.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$TOP/build}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
VERSION=$(cat "$TOP/VERSION")
ARCH=$(dpkg --print-architecture)
MAINTAINER=${MAINTAINER:-hookd maintainers <maintainers@hookd.invalid>}
DEB=$OUT/hookd_${VERSION}_${ARCH}.deb
WORK=$OUT/deb
ROOT=$WORK/debian/hookd   # where dpkg-shlibdeps expects a package's files

die() { echo "mkdeb: $*" >&2; exit 1; }

[ -x "$TOP/hookd" ] || die "no binary '$TOP/hookd' (run make)"
if readelf -d "$TOP/hookd" | grep -Eq 'NEEDED.*lib(a|ub|t|l)san'; then
    die "'$TOP/hookd' is a sanitizer build (rebuild without SANFLAGS: ./configure && make clean all)"
fi
: "${SOURCE_DATE_EPOCH:=$(git -C "$TOP" log -1 --format=%ct 2>/dev/null || date +%s)}"
export SOURCE_DATE_EPOCH

umask 022
rm -rf "$WORK"
mkdir -p "$ROOT/DEBIAN"

# ---- files ----
install -D -m 0755 "$TOP/hookd" "$ROOT/usr/bin/hookd"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$ROOT/usr/bin/hookd"
install -d -m 0755 "$ROOT/usr/share/man/man1"
gzip -9n < "$TOP/docs/hookd.1" > "$ROOT/usr/share/man/man1/hookd.1.gz"
chmod 0644 "$ROOT/usr/share/man/man1/hookd.1.gz"
install -D -m 0644 "$TOP/packaging/hookd.service" "$ROOT/lib/systemd/system/hookd.service"
install -D -m 0644 "$TOP/packaging/hookd.conf" "$ROOT/etc/hookd/hookd.conf"
install -D -m 0644 "$TOP/packaging/grafana-dashboard.json" \
    "$ROOT/usr/share/hookd/grafana-dashboard.json"
# The README and the documents it links to, in the same layout (docs/...),
# so its links and those between the documents work where they are installed.
for f in packaging/copyright README.md; do
    install -D -m 0644 "$TOP/$f" "$ROOT/usr/share/doc/hookd/$(basename "$f")"
done
for f in API.md DESIGN.md operations.md security.md performance.md console-screens.txt; do
    install -D -m 0644 "$TOP/docs/$f" "$ROOT/usr/share/doc/hookd/docs/$f"
done
# A native package's changelog: the version and the last commit's time.
{
    printf 'hookd (%s) unstable; urgency=medium\n\n' "$VERSION"
    printf '  * Release %s. The history is in the source repository.\n\n' "$VERSION"
    printf ' -- %s  %s\n' "$MAINTAINER" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n > "$ROOT/usr/share/doc/hookd/changelog.gz"
chmod 0644 "$ROOT/usr/share/doc/hookd/changelog.gz"
install -D -m 0644 "$TOP/packaging/lintian-overrides" "$ROOT/usr/share/lintian/overrides/hookd"

# ---- Depends: from the libraries the binary links ----
shlib_depends() {
    if command -v dpkg-shlibdeps >/dev/null 2>&1; then
        printf 'Source: hookd\n\nPackage: hookd\nArchitecture: any\n' > "$WORK/debian/control"
        (cd "$WORK" && dpkg-shlibdeps -O -e debian/hookd/usr/bin/hookd 2>/dev/null) |
            sed -n 's/^shlibs:Depends=//p'
        return
    fi
    for lib in $(readelf -d "$TOP/hookd" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p'); do
        path=$(ldd "$TOP/hookd" | awk -v l="$lib" '$1 == l { print $3 }')
        [ -n "$path" ] || die "cannot find the library '$lib'"
        pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path") ||
            die "no package owns '$path'"
        printf '%s\n' "${pkg%%:*}"
    done | sort -u | paste -sd, - | sed 's/,/, /g'
}
LIBDEPS=$(shlib_depends)
[ -n "$LIBDEPS" ] || die "cannot work out the library dependencies"

# ---- DEBIAN/ ----
SIZE=$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
cat > "$ROOT/DEBIAN/control" <<EOF
Package: hookd
Version: $VERSION
Architecture: $ARCH
Maintainer: $MAINTAINER
Installed-Size: $SIZE
Depends: $LIBDEPS, adduser
Section: net
Priority: optional
Description: webhook delivery server with a durable log and a console
 hookd accepts events over an HTTP API compatible with Svix, writes them
 to an embedded write-ahead log (LMDB) before it acknowledges them, and
 delivers them to subscribers' URLs with Standard Webhooks signatures,
 per-endpoint concurrency limits and retries. Every attempt is recorded;
 failed deliveries can be replayed from the API or from the terminal
 console (hookd console).
 .
 The package runs hookd as the systemd service hookd.service, as the
 system user hookd, with its data in /var/lib/hookd and its settings in
 /etc/hookd/hookd.conf. It is not started on installation.
EOF
echo /etc/hookd/hookd.conf > "$ROOT/DEBIAN/conffiles"
for s in postinst prerm postrm; do
    install -m 0755 "$TOP/packaging/debian/$s" "$ROOT/DEBIAN/$s"
done
(cd "$ROOT" && find . -path ./DEBIAN -prune -o -type f -print | sed 's,^\./,,' | LC_ALL=C sort |
    xargs md5sum) > "$ROOT/DEBIAN/md5sums"
chmod 0644 "$ROOT/DEBIAN/control" "$ROOT/DEBIAN/conffiles" "$ROOT/DEBIAN/md5sums"
find "$ROOT" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

dpkg-deb --root-owner-group -Zxz --build "$ROOT" "$DEB" >/dev/null
echo "$DEB"
