#!/bin/bash
# Images as rootfs= (docs/rootfs.md, "Images"): an OCI image layout built here from
# the meshlite tarball, with a second layer that whites out a file and adds one,
# comes up as a node that runs; a squashfs of meshlite does too; a platform picks
# an image of a multi-platform index; hostile images fail through `up` with
# file:line and a clear error and leave nothing.  tests/unit/test_image.c checks
# every format's tree in detail (whiteouts, opaque dirs, docker-save, LXD, ext4,
# MBR/GPT images, the hostile cases) without starting nodes.
. "$(dirname "$0")/lib.sh"
need_root
need_meshlite

export NETSIM_CACHE_DIR=$T_TMP/cache
unset NETSIM_EXTRACT_MAX_BYTES NETSIM_EXTRACT_MAX_FILES
MESHLITE=${NETSIM_ROOTFS_DIR:-${NETSIM_BUILD:-$TOP/build}/rootfs}/meshlite.tar.gz
SIM=img1
cleanup_sim $SIM

# --- an OCI layout, by hand ----------------------------------------------------
L=$T_TMP/meshlite-oci
mkdir -p "$L/blobs/sha256"
blob() { # blob FILE: move FILE into the layout, print "DIGEST SIZE"
	local hex size
	hex=$(sha256sum "$1" | cut -c1-64)
	size=$(stat -c %s "$1")
	mv "$1" "$L/blobs/sha256/$hex"
	echo "$hex $size"
}
read -r l1 s1 < <(cp "$MESHLITE" "$T_TMP/l1" && blob "$T_TMP/l1")
mkdir -p "$T_TMP/l2/etc" "$T_TMP/l2/usr/bin"
echo "from layer 2" > "$T_TMP/l2/etc/netsim-image"
: > "$T_TMP/l2/usr/bin/.wh.env"
tar -C "$T_TMP/l2" -czf "$T_TMP/l2.tgz" etc usr
read -r l2 s2 < <(blob "$T_TMP/l2.tgz")
printf '{"architecture":"amd64","os":"linux"}' > "$T_TMP/cfg"
read -r cfg cfgs < <(blob "$T_TMP/cfg")
printf '{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s},{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
	"$cfg" "$cfgs" "$l1" "$s1" "$l2" "$s2" > "$T_TMP/manifest"
read -r man mans < <(blob "$T_TMP/manifest")
# a second, arm64 image in the same index (one tiny layer)
mkdir -p "$T_TMP/arm/etc" && echo arm64 > "$T_TMP/arm/etc/arch"
tar -C "$T_TMP/arm" -cf "$T_TMP/arm.tar" etc
read -r al als < <(blob "$T_TMP/arm.tar")
printf '{"architecture":"arm64","os":"linux"}' > "$T_TMP/acfg"
read -r acfg acfgs < <(blob "$T_TMP/acfg")
printf '{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
	"$acfg" "$acfgs" "$al" "$als" > "$T_TMP/amanifest"
read -r aman amans < <(blob "$T_TMP/amanifest")
echo '{"imageLayoutVersion":"1.0.0"}' > "$L/oci-layout"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"arm64","os":"linux"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"}}]}' \
	"$aman" "$amans" "$man" "$mans" > "$L/index.json"

printf 'sim %s\nnode n1 rootfs=%s\n' $SIM "$L" > "$T_TMP/oci.conf"
t0=$(date +%s%N)
out=$("$NETSIM" up "$T_TMP/oci.conf" 2>&1)
ok $? "up a node whose rootfs= is an OCI image layout ($out)"
echo "# up (layers applied into the cache) took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
is "$("$NETSIM" exec -s $SIM n1 -- cat /etc/netsim-image 2>&1)" "from layer 2" \
	"the node sees the second layer's file"
"$NETSIM" exec -s $SIM n1 -- test -e /usr/bin/env
is $? 1 "...and not the file its whiteout removed"
like "$("$NETSIM" exec -s $SIM n1 -- cat /proc/1/cmdline 2>&1 | tr '\0' ' ')" "/sbin/init" \
	"PID 1 is meshlite's init from the first layer"
"$NETSIM" exec -s $SIM n1 -- babeld -V >/dev/null 2>&1
is $? 0 "babeld from the first layer runs"
ls -d "$NETSIM_CACHE_DIR/$man" >/dev/null 2>&1
ok $? "cached under the manifest's digest"
"$NETSIM" down $SIM >/dev/null 2>&1
is "$(settled_leftovers $SIM)" "" "down leaves nothing"

# --- meshlite as a squashfs, the way OpenWrt hands out *-rootfs.squashfs --------
if command -v sqfstar >/dev/null; then
	zcat "$MESHLITE" | sqfstar -quiet -no-progress -comp xz "$T_TMP/meshlite-rootfs.squashfs" >/dev/null 2>&1
	printf 'sim %s\nnode n1 rootfs=%s\n' $SIM "$T_TMP/meshlite-rootfs.squashfs" > "$T_TMP/sq.conf"
	out=$("$NETSIM" up "$T_TMP/sq.conf" 2>&1)
	ok $? "up a node whose rootfs= is a squashfs ($out)"
	like "$("$NETSIM" exec -s $SIM n1 -- cat /proc/1/cmdline 2>&1 | tr '\0' ' ')" "/sbin/init" \
		"its init runs"
	"$NETSIM" down $SIM >/dev/null 2>&1
else
	ok 0 "# skip squashfs node: sqfstar missing (apt-get install squashfs-tools)"
fi

# --- a platform: @arm64 picks the other image ------------------------------------
# (arm64 binaries do not run here, so only the tree is checked: up fails at
# the node's init, after the rootfs was resolved)
printf 'sim %s\nnode n1 rootfs=%s@aarch64 init=/bin/true\n' $SIM "$L" > "$T_TMP/arm.conf"
"$NETSIM" up "$T_TMP/arm.conf" >/dev/null 2>&1
"$NETSIM" down $SIM >/dev/null 2>&1
arm_tree=$(grep -l arm64 "$NETSIM_CACHE_DIR/$aman/etc/arch" 2>/dev/null | wc -l)
is "$arm_tree" 1 "rootfs=LAYOUT@aarch64 applies the arm64 image"

refused() { # refused CONF REGEX DESCRIPTION: up fails with REGEX and leaves nothing
	local conf=$1 re=$2 desc=$3 out
	out=$("$NETSIM" up "$conf" 2>&1)
	ok $([ $? -ne 0 ]; echo $?) "$desc: up fails"
	like "$out" "$re" "$desc: clear error ($out)"
	is "$(leftovers $SIM)" "" "$desc: nothing created"
	ok $(lacks '^\.tmp-' ls -a "$NETSIM_CACHE_DIR"; echo $?) "$desc: no temporary in the cache"
}

printf 'sim %s\nnode n1 rootfs=%s@mips_24kc\n' $SIM "$L" > "$T_TMP/mips.conf"
refused "$T_TMP/mips.conf" "mips.conf:2: node n1: rootfs .*has no linux/mips image \(it has linux/arm64, linux/amd64\)" \
	"a platform the image lacks"
printf 'sim %s\nnode n1 rootfs=%s@sparc\n' $SIM "$L" > "$T_TMP/sparc.conf"
refused "$T_TMP/sparc.conf" "unknown platform '@sparc'" "an unknown platform"

# --- hostile: an OCI tar whose second layer writes through the first's symlink ---
H=$T_TMP/hostile
mkdir -p "$H/blobs/sha256" "$T_TMP/outside" "$T_TMP/h1" "$T_TMP/h2/evil"
ln -s "$T_TMP/outside" "$T_TMP/h1/evil"
tar -C "$T_TMP/h1" -cf "$T_TMP/h1.tar" evil
echo pwned > "$T_TMP/h2/evil/pwned"
tar -C "$T_TMP/h2" -cf "$T_TMP/h2.tar" evil/pwned
L=$H
read -r h1 hs1 < <(blob "$T_TMP/h1.tar")
read -r h2 hs2 < <(blob "$T_TMP/h2.tar")
printf '{"architecture":"amd64","os":"linux"}' > "$T_TMP/hcfg"
read -r hcfg hcfgs < <(blob "$T_TMP/hcfg")
printf '{"schemaVersion":2,"config":{"digest":"sha256:%s","size":%s},"layers":[{"digest":"sha256:%s","size":%s},{"digest":"sha256:%s","size":%s}]}' \
	"$hcfg" "$hcfgs" "$h1" "$hs1" "$h2" "$hs2" > "$T_TMP/hman"
read -r hman hmans < <(blob "$T_TMP/hman")
echo '{"imageLayoutVersion":"1.0.0"}' > "$H/oci-layout"
printf '{"schemaVersion":2,"manifests":[{"digest":"sha256:%s","size":%s}]}' "$hman" "$hmans" > "$H/index.json"
tar -C "$H" -cf "$T_TMP/hostile-oci.tar" .
printf 'sim %s\nnode n1 rootfs=%s\n' $SIM "$T_TMP/hostile-oci.tar" > "$T_TMP/hostile.conf"
refused "$T_TMP/hostile.conf" "hostile.conf:2: node n1: rootfs .*layer 2 .*entry 'evil/pwned': refused: .*symlink" \
	"an OCI layer writing through an earlier layer's symlink"
is "$(ls -A "$T_TMP/outside")" "" "...and nothing was written outside the cache"

# --- hostile: a disk image whose partition points past its end --------------------
if command -v sfdisk >/dev/null; then
	truncate -s 4M "$T_TMP/openwrt-combined.img"
	printf 'label: dos\nstart=2048, size=4096, type=83\n' | sfdisk -q "$T_TMP/openwrt-combined.img" >/dev/null
	truncate -s 2M "$T_TMP/openwrt-combined.img"
	printf 'sim %s\nnode n1 rootfs=%s\n' $SIM "$T_TMP/openwrt-combined.img" > "$T_TMP/past.conf"
	refused "$T_TMP/past.conf" "past.conf:2: node n1: rootfs .*partition 1 \(sectors 2048-6143\) ends past the end of the image" \
		"a partition past the end of the image"
else
	ok 0 "# skip partition table: sfdisk missing (apt-get install fdisk)"
fi

done_testing
