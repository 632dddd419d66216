#!/bin/bash
# Wi-Fi segments (medium=wifi, docs/wireless.md "Wi-Fi segments"): real
# mac80211_hwsim radios per node, their 802.11 frames carried by netsim's medium
# with the radio model.  Here under `up --vm` (this host's kernel has no
# mac80211_hwsim; the container path then refuses with what to do), in one VM:
# a line a - b - c by position (a and c out of range) with an 802.11s mesh on
# wlan0 and an IBSS cell on wlan1.  Mesh peers per node, a reaching c over
# 802.11s forwarding, the mesh path metric rising with loss on a pair, a move
# changing the peering, IBSS data frames, batman-adv over the IBSS cell, and
# the radios and medium gone after the inner `down` and after a killed `up`.
. "$(dirname "$0")/lib.sh"
need_root
need_meshlite
export NETSIM_ROOTFS_DIR=${NETSIM_ROOTFS_DIR:-${NETSIM_BUILD:-$TOP/build}/rootfs}
SIM=twifi
cleanup_sim $SIM

TOPO=$(write_topo wifi.conf <<EOF
sim $SIM
node a pos=0,0
node b pos=170,0
node c pos=340,0
segment air0 a b c medium=wifi ssid=netsim-mesh
segment air1 a b c medium=wifi mode=ibss channel=6 ssid=netsim-cell
EOF
)

# --- the topology's errors, and the container path on this host -----------------
bad=$(write_topo bad.conf <<EOF
node a pos=0,0
node b pos=1,0
segment w a b medium=wifi channel=36
segment v a b medium=wifi mode=ibss forwarding=off
segment u a b medium=wifi ssid=two\$words
segment x a b channel=3
EOF
)
out=$("$NETSIM" up "$bad" 2>&1)
like "$out" 'bad.conf:3: channel=36: give a 2.4 GHz channel from 1 to 13' "channel outside 2.4 GHz: file:line and the range"
like "$out" 'bad.conf:4: forwarding= is for mode=mesh' "forwarding= on an IBSS cell is refused"
like "$out" 'bad.conf:5: ssid=two\$words: give 1 to 32 characters' "an SSID with shell characters is refused"
like "$out" 'bad.conf:6: channel= is only for medium=wifi segments' "channel= on a bridge is refused"
if [ ! -d /sys/module/mac80211_hwsim ]; then
	out=$("$NETSIM" up "$TOPO" 2>&1)
	ok $(($? == 0)) "container path without mac80211_hwsim: up refuses"
	like "$out" 'no mac80211_hwsim .*modprobe mac80211_hwsim.*netsim up --vm' "and says modprobe or --vm"
	is "$(leftovers $SIM)" "" "and creates nothing"
else
	echo "# this host has mac80211_hwsim: the container path is the one --vm runs inside"
fi

command -v qemu-system-x86_64 >/dev/null ||
	{ done_testing; exit; }
BUILD_DIR=$(cd "$(dirname "$NETSIM")" && pwd)
if [ -z "${NETSIM_KERNEL_DIR:-}" ] || [ ! -f "$NETSIM_KERNEL_DIR/vmlinuz" ]; then
	make -C "$TOP" BUILD="$BUILD_DIR" kernel >"$T_TMP/make.log" 2>&1 ||
		{ echo "# make kernel failed: $(tail -n 1 "$T_TMP/make.log")"; done_testing; exit; }
	export NETSIM_KERNEL_DIR=$BUILD_DIR/kernel
fi
make -C "$TOP" BUILD="$BUILD_DIR" "$BUILD_DIR/tests/qemu-node" >>"$T_TMP/make.log" 2>&1
QN=$BUILD_DIR/tests/qemu-node
export NETSIM_QEMU_ACCEL=tcg
# the hostile node's frame injector, laid over every node (static: any rootfs)
mkdir -p "$T_TMP/files/usr/bin"
have_inject=0
gcc -static -O2 -o "$T_TMP/files/usr/bin/inject80211" "$TOP/tests/integration/inject80211.c" \
	2>>"$T_TMP/make.log" && have_inject=1
sed -i "1a defaults files=$T_TMP/files" "$TOPO"
VMRUN=/run/netsim/$SIM/vm.d
# a command in the VM, in the root the netsim inside runs in (PID 1's)
vm() { "$QN" exec --run-dir $VMRUN --timeout 60 -- /netsim/bin/chroot /proc/1/root "$@"; }
x() { "$NETSIM" exec -s $SIM "$@"; }
# poll CMD... until its output matches RE (up to $2 seconds): wait_for SECONDS RE CMD...
wait_for() {
	local secs=$1 re=$2 i
	shift 2
	for i in $(seq 1 "$secs"); do
		out=$("$@" 2>&1)
		printf '%s' "$out" | grep -Eq -- "$re" && return 0
		sleep 1
	done
	return 1
}
estab() { x "$1" -- iw dev "$2" station dump | grep -c 'mesh plink:.*ESTAB'; }
mac_of() { x "$1" -- cat /sys/class/net/"$2"/address; }

start=$(date +%s.%N)
out=$("$NETSIM" up --vm "$TOPO" 2>&1)
ok $? "up --vm: $(tail -n 1 <<<"$out")"
like "$out" 'sim twifi up: 3 nodes, 0 links, 2 segments' "three nodes on two Wi-Fi segments"

# --- 802.11s on wlan0 --------------------------------------------------------------
is "$(x a -- iw dev wlan0 info | sed -n 's/^[[:space:]]*type //p')" "mesh point" "a's wlan0 is a mesh point"
is "$(x a -- iw dev wlan1 info | sed -n 's/^[[:space:]]*type //p')" "IBSS" "a's wlan1 is an IBSS interface"
like "$(x a -- iw dev wlan0 info)" 'channel 1 \(2412 MHz\)' "wlan0 on channel 1 (2.4 GHz, not a 6 GHz default)"
wait_for 90 '^2$' estab b wlan0
ok $? "b has two mesh peers (ESTAB): $out"
reached=$(echo "$(date +%s.%N) - $start" | bc)
echo "# b peered with a and c $reached s after up started"
out=$(x a -- iw dev wlan0 station dump)
is "$(grep -c '^Station' <<<"$out")" 1 "a lists one station: c is out of its range"
is "$(grep -c 'ESTAB' <<<"$out")" 1 "and that peer link is established"
mac_b=$(mac_of b wlan0)
mac_c=$(mac_of c wlan0)
like "$out" "Station $mac_b" "a's one peer is b"
like "$("$NETSIM" air -s $SIM air0)" 'a +c +no ' "netsim air: a -> c out of range"

wait_for 60 '1 packets received' x a -- ping -c 1 -W 2 10.13.0.3
ok $? "a reaches c across the mesh"
# 802.11s forwarding alone: c's link-local address on wlan0 is one hop at IP
# level; the frames for it go to b as the next hop of a mesh path (HWMP).
ll_of() { x "$1" -- ip -6 addr show dev "$2" | sed -n 's|.*inet6 \(fe80::[0-9a-f:]*\)/.*|\1|p' | head -n 1; }
ll_c=$(ll_of c wlan0)
wait_for 30 '1 packets received' x a -- ping -c 1 -W 2 "$ll_c%wlan0"
ok $? "a pings c's link-local address $ll_c on wlan0 (layer 2 across the mesh)"
wait_for 10 "$mac_c +$mac_b " x a -- iw dev wlan0 mpath dump
ok $? "a's mesh path to c goes through b (802.11s forwarding): $(grep "$mac_c" <<<"$out")"

# --- capture: 802.11 frames with radiotap headers, or the data frames ------------
"$NETSIM" capture -s $SIM a:wlan0 -w "$T_TMP/w.pcap" -c 10 --duration 30 2>"$T_TMP/cap.err"
ok $? "capture a:wlan0 -c 10"
like "$(cat "$T_TMP/cap.err")" '802\.11 frames with radiotap' "it says it records 802.11 frames"
is "$(od -An -tu4 -j20 -N4 "$T_TMP/w.pcap" | tr -d ' ')" 127 "the pcap's link type is 802.11 with radiotap (127)"
ok $(( $(stat -c %s "$T_TMP/w.pcap") > 24 + 10 * 16 ? 0 : 1 )) "and it holds the 10 frames"
is "$(x a -- ls /sys/class/net | grep -c mon)" 0 "the monitor interface is gone after the capture"
"$NETSIM" capture -s $SIM --data a:wlan0 -w "$T_TMP/d.pcap" -c 2 --duration 30 2>/dev/null
is "$(od -An -tu4 -j20 -N4 "$T_TMP/d.pcap" | tr -d ' ')" 1 "capture --data: Ethernet framing (1)"

# --- loss on a pair raises the mesh metric ----------------------------------------
metric() { x a -- iw dev wlan0 mpath dump | awk -v d="$mac_b" '$1 == d { print $5 }'; }
ll_b=$(ll_of b wlan0)
x a -- ping -c 20 -i 0.2 -W 1 "$ll_b%wlan0" >/dev/null 2>&1
before=$(metric)
"$NETSIM" air -s $SIM air0 pair a b loss=60% >/dev/null
ok $? "air pair a b loss=60%"
x a -- ping -c 40 -i 0.2 -W 1 "$ll_b%wlan0" >/dev/null 2>&1
after=$(metric)
echo "# a -> b mesh path metric: $before before, $after with 60% loss"
ok $(( ${after:-0} > ${before:-0} ? 0 : 1 )) "the mesh path metric a -> b rises with loss ($before -> $after)"
"$NETSIM" air -s $SIM air0 pair a b clear >/dev/null

# --- a hostile node (after the metric, which its flood would disturb) --------
# its own name for the monitor capture would use: capture refuses, leaves it be
x a -- iw dev wlan0 interface add wlan0mon type monitor
fails "$NETSIM" capture -s $SIM a:wlan0 -w "$T_TMP/x.pcap" -c 1 \
	"capture refuses when the node already has a wlan0mon"
like "$out" 'wlan0mon' "...naming it"
is "$(x a -- iw dev wlan0mon info | grep -c 'type monitor')" 1 "and leaves the node's own wlan0mon alone"
x a -- iw dev wlan0mon del
# raw 802.11 frames of any length and content through a monitor on its radio
if [ $have_inject = 1 ]; then
	x a -- iw dev wlan0 interface add inj type monitor && x a -- ip link set inj up
	ok $? "a node adds a monitor interface to its own phy"
	out=$(x a -- inject80211 inj 3000 2>&1)
	like "$out" 'of 3000 frames taken' "and injects 3000 random frames: $out"
	"$NETSIM" status $SIM >/dev/null 2>&1
	ok $? "the medium survived (status is healthy)"
	like "$("$NETSIM" air -s $SIM air0 2>&1)" 'a +b +yes' "and answers"
	wait_for 60 '^2$' estab b wlan0
	ok $? "b still has both mesh peers"
	wait_for 30 '1 packets received' x a -- ping -c 1 -W 2 10.13.0.3
	ok $? "a still reaches c"
	x a -- iw dev inj del
else
	ok 0 "# SKIP no static gcc for the frame injector: $(tail -n 1 "$T_TMP/make.log")"
fi

# --- a move changes the peering -----------------------------------------------------
"$NETSIM" node -s $SIM c move 30,0 >/dev/null
ok $? "node c move 30,0 (next to a)"
wait_for 90 '^2$' estab a wlan0
ok $? "after the move a has two mesh peers: $out"
like "$(x a -- iw dev wlan0 station dump)" "Station $mac_c" "c is one of them"
"$NETSIM" node -s $SIM c move 340,0 >/dev/null

# --- IBSS on wlan1: data frames, batman-adv over it -------------------------------
wait_for 60 'Station' x b -- iw dev wlan1 station dump
ok $? "b sees IBSS stations on wlan1"
setup_bat() { # NODE N
	x "$1" -- ip link add bat0 type batadv &&
		x "$1" -- ip link set wlan1 master bat0 &&
		x "$1" -- ip addr add 10.29.0."$2"/24 dev bat0 &&
		x "$1" -- ip link set bat0 up
}
setup_bat a 1 && setup_bat b 2 && setup_bat c 3
ok $? "bat0 over wlan1 (IBSS) on a, b, c"
wait_for 90 '1 packets received' x a -- ping -c 1 -W 2 10.29.0.3
ok $? "a pings c over batman-adv on the IBSS cell (data frames flow, relayed by b)"
mac_c1=$(mac_of c wlan1)
mac_b1=$(mac_of b wlan1)
out=$(x a -- batctl o 2>&1)
sed 's/^/# /' <<<"$out"
like "$out" "\\* +$mac_c1 .*\\( *[0-9]+\\) $mac_b1 \\[ *wlan1\\]" "batctl o on a: c via b"

# --- the radios and the medium go with the inner down, and after a killed up ------
# hwsim's devices are global (sysfs's /sys/class/ieee80211 shows only the phys
# of the reader's own namespace)
radios() { vm /netsim/bin/busybox ls /sys/devices/virtual/mac80211_hwsim 2>/dev/null | grep -c '^hwsim[0-9]'; }
is "$(radios)" 6 "the VM has the sim's six radios"
like "$(vm /netsim/bin/busybox ls /run/netsim)" "^$SIM\$" "the netsim inside sees the sim"
vm /usr/local/bin/netsim down $SIM >/dev/null
ok $? "the netsim inside: down"
is "$(radios)" 0 "no radio is left in the VM"
is "$(vm /netsim/bin/busybox ls -A /run/netsim)" "" "no state is left in the VM"
# a killed up: SIGKILL while radios are being created, then down
B=/netsim/bin/busybox
vm $B sh -c "PATH=/usr/sbin:/usr/bin:/sbin:/bin /usr/local/bin/netsim up -q $TOPO >/dev/null 2>&1 & p=\$!; \
	while ! $B ls /sys/devices/virtual/mac80211_hwsim 2>/dev/null | $B grep -q hwsim; do \
	$B usleep 20000; done; \
	$B kill -9 \$p" >/dev/null
ok $? "an inner up killed while it made the radios"
vm /usr/local/bin/netsim down $SIM >/dev/null
ok $? "down after the killed up"
is "$(radios)" 0 "no radio is left after the killed up + down"
is "$(vm /netsim/bin/busybox ls -A /run/netsim)" "" "nor any state"
"$NETSIM" down $SIM >/dev/null
ok $? "down (the VM)"
is "$(leftovers $SIM)" "" "nothing left on the host"
done_testing
