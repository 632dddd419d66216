#!/bin/sh
# Builds $BUILD/rootfs/frr.tar.gz, the `rootfs=frr` of labs imported from Kathara
# (its kathara/frr image): Debian's frr with bash, iproute2 and busybox-static
# for everything else, all from Debian packages (`apt-get download` into
# $BUILD/rootfs/debs, never installed on the host, reused on rebuilds), put
# together by $BUILD/mkrootfs with rootfs/frr/init as /sbin/init.  Maintainer
# scripts do not run: what frr's postinst does (its user and groups, /etc/frr's
# owner) is in rootfs/frr/passwd, group and init.  Called by `make rootfs-frr`.
set -eu

BUILD=${BUILD:-build}
SRC_DIR=$(cd "$(dirname "$0")" && pwd)
ROOTFS_DIR=$BUILD/rootfs
DEB_DIR=$ROOTFS_DIR/debs
OUT=$ROOTFS_DIR/frr.tar.gz
MKROOTFS=$BUILD/mkrootfs
# frr and the shared libraries its daemons, vtysh, ip and bash link (their
# DT_NEEDED, checked below), plus libgcc-s1, which glibc dlopens for unwinding.
PACKAGES="busybox-static bash frr iproute2 libc6 libgcc-s1 libtinfo6 libc-ares2 libcap2
	libcrypt1 libjson-c5 libpam0g libaudit1 libcap-ng0 libreadline8 libyang2 libpcre2-8-0
	libbpf1 libelf1 zlib1g libmnl0 libbsd0 libmd0 libxtables12"
# vtysh checks the caller with PAM: of libpam-modules only pam_permit.so is taken.
PAM_PACKAGE=libpam-modules
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1704067200}
export SOURCE_DATE_EPOCH

log() { echo "build-frr: $*"; }
die() { echo "build-frr: error: $*" >&2; exit 1; }

[ -x "$MKROOTFS" ] || die "$MKROOTFS not built (run 'make $MKROOTFS')"
. "$SRC_DIR/debs.sh"
# shellcheck disable=SC2086
fetch_debs $PACKAGES $PAM_PACKAGE
# shellcheck disable=SC2086
DEB_ARGS=$(deb_args $PACKAGES)

TMP=$(mktemp -d "$ROOTFS_DIR/.frr.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
dpkg-deb --fsys-tarfile "$DEB_DIR/$(find_deb busybox-static)" | tar -x -C "$TMP" ./bin/busybox
PAM_PERMIT=lib/x86_64-linux-gnu/security/pam_permit.so
dpkg-deb --fsys-tarfile "$DEB_DIR/$(find_deb $PAM_PACKAGE)" | tar -x -C "$TMP" "./$PAM_PERMIT"
# busybox for every command no package here provides (ip, tc, bridge and bash
# are the real ones; ss is left out with its libraries).
PROVIDED=" $(for pkg in bash iproute2; do
	dpkg-deb --fsys-tarfile "$DEB_DIR/$(find_deb $pkg)" | tar -t | sed -n 's|^\./s\{0,1\}bin/||p; s|^\./usr/s\{0,1\}bin/||p'
done | tr '\n' ' ') "
APPLET_ARGS=
for applet in $("$TMP/bin/busybox" --list); do
	case $applet in
	init | linuxrc | busybox) continue ;;
	esac
	case $PROVIDED in *" $applet "*) continue ;; esac
	APPLET_ARGS="$APPLET_ARGS --symlink busybox:bin/$applet"
done
printf 'frr\n' >"$TMP/hostname"

# Not needed to run FRR: docs, man pages, locales, glibc's iconv modules and
# debugging libraries, FRR's systemd/rsyslog/logrotate glue, iproute2's extras.
EXCLUDES="etc/pam.d/frr usr/share/doc usr/share/man usr/share/info usr/share/locale usr/share/lintian
	usr/share/bash-completion usr/share/bug usr/share/common-licenses usr/share/menu
	usr/lib/*/gconv lib/systemd usr/lib/tmpfiles.d etc/rsyslog.d etc/logrotate.d
	lib/*/libmvec.so.* lib/*/libc_malloc_debug.so.* lib/*/libmemusage.so
	lib/*/libpcprofile.so lib/*/libthread_db.so.* lib/*/libBrokenLocale.so.*
	usr/lib/frr/frr-reload sbin/rdma sbin/dcb sbin/vdpa sbin/tipc sbin/rtmon
	usr/sbin/arpd bin/ss usr/share/zoneinfo"
EXCLUDE_ARGS=
for glob in $EXCLUDES; do
	EXCLUDE_ARGS="$EXCLUDE_ARGS --exclude $glob"
done

set -f
# shellcheck disable=SC2086
"$MKROOTFS" -o "$OUT" $EXCLUDE_ARGS \
	--dir proc:0555 --dir sys:0555 --dir dev:0755 --dir tmp:1777 --dir run:0755 \
	--dir etc:0755 --dir root:0700 --dir var:0755 --dir var/log:0755 --dir var/tmp:1777 \
	--symlink ../run:var/run --dir usr/bin:0755 --dir usr/sbin:0755 --dir sbin:0755 \
	$DEB_ARGS \
	$APPLET_ARGS \
	--symlink ../../bin/busybox:usr/bin/env \
	--file "$SRC_DIR/frr/init:sbin/init:0755" \
	--file "$SRC_DIR/frr/service:usr/sbin/service:0755" \
	--dir lib/x86_64-linux-gnu/security:0755 \
	--file "$TMP/$PAM_PERMIT:$PAM_PERMIT:0644" \
	--file "$SRC_DIR/frr/pam.frr:etc/pam.d/frr:0644" \
	--file "$SRC_DIR/frr/passwd:etc/passwd:0644" \
	--file "$SRC_DIR/frr/group:etc/group:0644" \
	--file "$SRC_DIR/meshlite/hosts:etc/hosts:0644" \
	--file "$SRC_DIR/meshlite/profile:etc/profile:0644" \
	--file "$TMP/hostname:etc/hostname:0644"
set +f

# Every shared library the binaries ask for must be in the image.
mkdir "$TMP/root"
tar -xzf "$OUT" -C "$TMP/root"
missing_libs=
for f in $(find "$TMP/root/bin" "$TMP/root/sbin" "$TMP/root/usr/bin" "$TMP/root/usr/sbin" \
	"$TMP/root/usr/lib/frr" "$TMP/root/usr/lib/x86_64-linux-gnu/frr" -type f 2>/dev/null); do
	for lib in $(readelf -d "$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		found=
		for dir in "$TMP/root/lib/"*-linux-gnu* "$TMP/root/usr/lib/"*-linux-gnu* \
			"$TMP/root/lib64" "$TMP/root/usr/lib/x86_64-linux-gnu/frr"; do
			[ -e "$dir/$lib" ] && found=1
		done
		[ -n "$found" ] || missing_libs="$missing_libs ${f#"$TMP"/root}:$lib"
	done
done
[ -z "$missing_libs" ] || die "libraries missing from the image:$missing_libs"
log "wrote $OUT ($(du -k "$OUT" | cut -f1) KiB compressed, $(du -sk "$TMP/root" | cut -f1) KiB unpacked)"
