#!/bin/sh
# Builds $BUILD/rootfs/meshlite.tar.gz, the default node rootfs: busybox-static +
# babeld, iw, batctl and the shared libraries they need, all from Debian packages
# (`apt-get download`, never installed on the host), put together by $BUILD/mkrootfs
# with our init (rootfs/meshlite/init) as /sbin/init.  Called by `make rootfs`.
#
# Downloaded .debs are kept in $BUILD/rootfs/debs/ and reused, so a rebuild needs no
# network.  Delete that directory to pick up newer Debian packages.
set -eu

BUILD=${BUILD:-build}
SRC_DIR=$(cd "$(dirname "$0")" && pwd)
ROOTFS_DIR=$BUILD/rootfs
DEB_DIR=$ROOTFS_DIR/debs
OUT=$ROOTFS_DIR/meshlite.tar.gz
MKROOTFS=$BUILD/mkrootfs
# babeld links libb2-1 (which needs libgomp1) and libc6; libgcc-s1 is what glibc
# dlopens for thread cancellation/unwinding.
# iw joins Wi-Fi meshes and cells (medium=wifi segments) and batctl drives
# batman-adv where the kernel has it; both speak generic netlink through libnl.
PACKAGES="busybox-static babeld libb2-1 libgomp1 libgcc-s1 libc6 iw batctl libnl-3-200 libnl-genl-3-200"
# A fixed timestamp for every entry makes the tarball byte-for-byte reproducible,
# which keeps netsim's sha256-keyed rootfs cache warm across rebuilds.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1704067200}
export SOURCE_DATE_EPOCH

log() { echo "build-meshlite: $*"; }
die() { echo "build-meshlite: error: $*" >&2; exit 1; }

[ -x "$MKROOTFS" ] || die "$MKROOTFS not built (run 'make $MKROOTFS')"
. "$SRC_DIR/debs.sh"
fetch_debs $PACKAGES
DEB_ARGS=$(deb_args $PACKAGES)

# The applet list comes from the busybox we ship (it is static, so it runs here).
TMP=$(mktemp -d "$ROOTFS_DIR/.busybox.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
dpkg-deb --fsys-tarfile "$DEB_DIR/$(find_deb busybox-static)" | tar -x -C "$TMP" ./bin/busybox
APPLET_ARGS=
for applet in $("$TMP/bin/busybox" --list); do
	case $applet in
	# /sbin/init is ours; linuxrc is an initrd leftover; busybox is the binary itself.
	init | linuxrc | busybox) ;;
	*) APPLET_ARGS="$APPLET_ARGS --symlink busybox:bin/$applet" ;;
	esac
done

printf 'meshlite\n' >"$TMP/hostname"

# Nothing under these paths is needed to run busybox and babeld: docs, man pages,
# the sysvinit scripts of babeld, glibc's 8 MB of iconv modules and its debugging
# and rarely used libraries.
EXCLUDES="usr/share etc/init.d etc/default etc/logrotate.d usr/lib/*/gconv
	lib/*/libmvec.so.* lib/*/libc_malloc_debug.so.* lib/*/libmemusage.so
	lib/*/libpcprofile.so lib/*/libthread_db.so.* lib/*/libBrokenLocale.so.*"
EXCLUDE_ARGS=
for glob in $EXCLUDES; do
	EXCLUDE_ARGS="$EXCLUDE_ARGS --exclude $glob"
done

set -f  # the globs above go to mkrootfs, not to the shell
# shellcheck disable=SC2086
"$MKROOTFS" -o "$OUT" $EXCLUDE_ARGS \
	--dir proc:0555 --dir sys:0555 --dir dev:0755 --dir tmp:1777 --dir run:0755 \
	--dir etc:0755 --dir root:0700 --dir var:0755 --dir var/log:0755 \
	--symlink ../run:var/run --dir usr/bin:0755 --dir sbin:0755 \
	$DEB_ARGS \
	$APPLET_ARGS \
	--symlink ../../bin/busybox:usr/bin/env \
	--file "$SRC_DIR/meshlite/init:sbin/init:0755" \
	--file "$SRC_DIR/meshlite/passwd:etc/passwd:0644" \
	--file "$SRC_DIR/meshlite/group:etc/group:0644" \
	--file "$SRC_DIR/meshlite/hosts:etc/hosts:0644" \
	--file "$SRC_DIR/meshlite/profile:etc/profile:0644" \
	--file "$TMP/hostname:etc/hostname:0644" \
	--dir etc/babeld.d:0755
set +f
