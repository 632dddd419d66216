#!/bin/sh
# Builds $BUILD/kernel/: the kernel and base initramfs of netsim's QEMU nodes
# (docs/vm.md).  Called by `make kernel`.
#
#   vmlinuz, initramfs.cpio.gz, modules, release    (see rootfs/mkinitramfs.c)
#
# The kernel is Debian's, `apt-get download`ed (never installed on the host) and
# unpacked with libarchive by $BUILD/mkinitramfs, which also picks the modules
# below plus their dependencies.  busybox comes from busybox-static: the .deb the
# meshlite build downloaded is reused when it is there.
#
#   KERNEL_PKG=linux-image-...   another kernel package (default: the one pinned below)
#   KERNEL_MODULES="..."         another module list
set -eu

BUILD=${BUILD:-build}
SRC_DIR=$(cd "$(dirname "$0")" && pwd)
OUT=$BUILD/kernel
DEB_DIR=$OUT/debs
# The one place the kernel is pinned: what `apt-cache depends linux-image-amd64`
# names on Debian 12.
KERNEL_PKG=${KERNEL_PKG:-linux-image-6.1.0-56-amd64}
# Loaded by /netsim/init at boot, in this order after their dependencies.
# crc32c_generic comes before batman-adv: libcrc32c needs a crc32c
# implementation at load time, and that is not a symbol dependency.
# mac80211_hwsim is loaded with radios=0 (netsim.hwsim_radios=N for more).
KERNEL_MODULES=${KERNEL_MODULES:-"virtio_pci virtio_net virtio_console
	crc32c_generic batman-adv 8021q bridge veth tun overlay
	sch_netem sch_tbf sch_htb sch_ingress cls_matchall cls_u32 act_mirred ifb
	mac80211_hwsim"}
MKINITRAMFS=$BUILD/mkinitramfs
AGENT=$BUILD/kernel/agent
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1704067200}
export SOURCE_DATE_EPOCH

log() { echo "build-kernel: $*"; }
die() { echo "build-kernel: error: $*" >&2; exit 1; }

[ -x "$MKINITRAMFS" ] || die "$MKINITRAMFS not built (run 'make $MKINITRAMFS')"
[ -x "$AGENT" ] || die "$AGENT not built (run 'make kernel')"
command -v apt-get >/dev/null || die "apt-get not found: the kernel comes from Debian packages"
mkdir -p "$DEB_DIR"

# Newest .deb of a package in a directory, or nothing.
find_deb() {
	ls "$2" 2>/dev/null | grep "^$1_.*\.deb\$" | sort -V | tail -n 1
}

download() { # PACKAGE
	log "downloading $1 into $DEB_DIR"
	if ! (cd "$DEB_DIR" && apt-get download "$1"); then
		[ "$(id -u)" = 0 ] || die "apt-get download $1 failed; try 'sudo apt-get update'"
		log "download failed; running 'apt-get update' once (we are root) and retrying"
		apt-get update
		(cd "$DEB_DIR" && apt-get download "$1") || die "apt-get download $1 failed"
	fi
}

[ -n "$(find_deb "$KERNEL_PKG" "$DEB_DIR")" ] || download "$KERNEL_PKG"
KERNEL_DEB=$DEB_DIR/$(find_deb "$KERNEL_PKG" "$DEB_DIR")

BUSYBOX_DEB=
for dir in "$BUILD/rootfs/debs" "$DEB_DIR"; do
	deb=$(find_deb busybox-static "$dir")
	if [ -n "$deb" ]; then
		BUSYBOX_DEB=$dir/$deb
		break
	fi
done
if [ -z "$BUSYBOX_DEB" ]; then
	download busybox-static
	BUSYBOX_DEB=$DEB_DIR/$(find_deb busybox-static "$DEB_DIR")
fi

log "kernel $KERNEL_DEB, busybox $BUSYBOX_DEB"
# shellcheck disable=SC2086
"$MKINITRAMFS" -o "$OUT" --kernel-deb "$KERNEL_DEB" --busybox-deb "$BUSYBOX_DEB" \
	--init "$SRC_DIR/vm/init" --agent "$AGENT" $KERNEL_MODULES
