#!/bin/bash
# A router image of another architecture in a container node: the OpenWrt 22.03
# mips_24kc userspace runs through qemu-user (binfmt_misc, Debian
# qemu-user-static).  procd is PID 1, ubus answers, `status` shows ARCH mips.
# What does not work (netifd's rtnetlink through qemu-user) is docs/rootfs.md's
# "What works under qemu-user"; this test pins only what does.
. "$(dirname "$0")/lib.sh"
need_root
FIXTURE=$TOP/../shared/fixtures/openwrt-22.03-snapshot-r20142-mips_24kc-userspace-rootfs.tar.gz
[ -f "$FIXTURE" ] || skip_all "mips fixture not found at $FIXTURE"
entry=/proc/sys/fs/binfmt_misc/qemu-mips
[ -r "$entry" ] ||
	skip_all "no binfmt_misc entry $entry (apt-get install qemu-user-static binfmt-support; where binfmt_misc is not mounted: mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc && update-binfmts --enable)"
grep -qx enabled "$entry" || skip_all "$entry is disabled (update-binfmts --enable qemu-mips)"
grep -q '^flags:.*F' "$entry" || skip_all "$entry lacks the F flag (Debian's qemu-user-static sets it)"

SIM=q1mips
cleanup_sim $SIM
topo=$(write_topo $SIM.conf <<EOF
node m1 rootfs=$FIXTURE
EOF
)
"$NETSIM" up -q -n $SIM "$topo" >"$T_TMP/up.log" 2>&1
ok $? "up: the mips_24kc userspace in a container node" || sed 's/^/# /' "$T_TMP/up.log"

comm=
for _ in $(seq 1 30); do
	comm=$("$NETSIM" exec -s $SIM m1 -- cat /proc/1/cmdline 2>/dev/null | tr '\0' ' ')
	case $comm in *procd*) break ;; esac
	sleep 1
done
like "$comm" 'procd' "PID 1 is procd (through qemu-user: $comm)"
board=
for _ in $(seq 1 60); do
	board=$("$NETSIM" exec -s $SIM m1 -- ubus call system board 2>&1) && break
	sleep 1
done
like "$board" '"system": ' "ubus call system board answers"
# The board info is the image's own text (this fixture's openwrt_release says
# x86/64); what runs is mips: qemu-user's uname answers for its guest.
is "$("$NETSIM" exec -s $SIM m1 -- uname -m 2>&1)" mips "uname -m in the node: mips"
out=$("$NETSIM" status $SIM 2>&1)
like "$out" 'm1 .*mips' "status shows ARCH mips ($(grep m1 <<<"$out"))"

"$NETSIM" down $SIM >/dev/null 2>&1
ok $? "down"
is "$(leftovers $SIM)" "" "nothing left behind"
done_testing
