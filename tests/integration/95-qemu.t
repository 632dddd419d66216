#!/bin/bash
# QEMU nodes (netsim/vm/qemu.c) under TCG, driven through tests/integration/qemu-node.c:
# the OpenWrt fixture boots with procd as PID 1 and an eth0, ubus answers through
# the guest agent, exit statuses pass through, `netsim console` talks to the serial
# console; a meshlite VM loads batman-adv, 8021q and sch_netem and pings a plain
# netns across the TAP<->veth join; errors name their fix; nothing is left behind.
. "$(dirname "$0")/lib.sh"
need_root
need_meshlite
command -v qemu-system-x86_64 >/dev/null ||
	skip_all "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"
FIXTURE=$TOP/../shared/fixtures/openwrt-18.06.4-x86-64-generic-rootfs.tar.gz
[ -f "$FIXTURE" ] || skip_all "OpenWrt fixture not found at $FIXTURE"

BUILD_DIR=$(cd "$(dirname "$NETSIM")" && pwd)
QN=$BUILD_DIR/tests/qemu-node
# The kernel is not part of `make`: build it on demand (downloads the package
# once; a no-op when it is up to date).
make -C "$TOP" BUILD="$BUILD_DIR" kernel "$BUILD_DIR/tests/qemu-node" >"$T_TMP/make.log" 2>&1 ||
	skip_all "make kernel failed (no Debian mirror?): $(tail -n 1 "$T_TMP/make.log")"
export NETSIM_KERNEL_DIR=$BUILD_DIR/kernel
export NETSIM_QEMU_ACCEL=tcg   # what CI machines without /dev/kvm get
MESHLITE=${NETSIM_ROOTFS_DIR:-${NETSIM_BUILD:-$TOP/build}/rootfs}/meshlite.tar.gz

NETNS=()
RUNDIRS=()
vm_cleanup() {
	for dir in "${RUNDIRS[@]}"; do "$QN" stop --run-dir "$dir" >/dev/null 2>&1; done
	for ns in "${NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
}
trap 'vm_cleanup; t_cleanup' EXIT

# A node netns tq-NODE whose eth0 is a veth to eth$N in the peer netns tq-peer.
add_node_netns() { # NODE PEER-IFNAME
	ip netns add "tq-$1" && NETNS+=("tq-$1") &&
		ip link add eth0 netns "tq-$1" type veth peer name "$2" netns tq-peer &&
		ip -n "tq-$1" link set eth0 up && ip -n tq-peer link set "$2" up
}
ip netns add tq-peer && NETNS+=(tq-peer)
add_node_netns owrt p-owrt && add_node_netns mesh p-mesh
ok $? "node and peer namespaces with veth pairs"

start() { # NODE ROOTFS MAC [OPTIONS...]
	local node=$1 rootfs=$2 mac=$3
	shift 3
	mkdir -p "$T_TMP/run/tqsim/nodes/$node"
	RUNDIRS+=("$T_TMP/run/tqsim/nodes/$node")
	"$QN" start --name "$node" --netns "/run/netns/tq-$node" \
		--run-dir "$T_TMP/run/tqsim/nodes/$node" --rootfs "$rootfs" --nic "eth0=$mac" "$@"
}
qexec() { # NODE COMMAND...
	local node=$1
	shift
	"$QN" exec --run-dir "$T_TMP/run/tqsim/nodes/$node" --timeout 30 -- "$@"
}
retry() { # TRIES COMMAND... : until it succeeds, 1 s apart; output of the last try
	local tries=$1 i
	shift
	for i in $(seq 1 "$tries"); do
		out=$("$@" 2>&1) && return 0
		sleep 1
	done
	return 1
}

# --- errors that say what to do -----------------------------------------------
out=$(NETSIM_KERNEL_DIR=$T_TMP/nokernel start owrt "$FIXTURE" 02:00:00:00:01:01 2>&1)
like "$out" 'run `make kernel`' "no kernel: the error says make kernel"
mkdir -p "$T_TMP/emptybin"
out=$(PATH=$T_TMP/emptybin "$QN" start --name owrt --netns /run/netns/tq-owrt \
	--run-dir "$T_TMP/run/tqsim/nodes/owrt" --rootfs "$FIXTURE" 2>&1)
like "$out" 'install the Debian package qemu-system-x86' "no QEMU: the error names the package"
out=$(start owrt "$FIXTURE" 02:00:00:00:01:01 --module wireguard 2>&1)
like "$out" 'kernel module wireguard is not in .*build-kernel.sh' "a missing module is named"
out=$(start owrt "$MESHLITE" 02:00:00:00:01:01 --timeout 1 2>&1)
like "$out" 'VM not up within 1 s \(tcg\); last console lines' "boot timeout: says so"
is "$(ls "$T_TMP/run/tqsim/nodes/owrt" | grep -Ev '^(console|qemu)\.log$')" "" \
	"after the failed start: no pid file, sockets or initrd left"
is "$(ip -n tq-owrt -br link | grep -c tap)" 0 "after the failed start: no TAP left"

# --- OpenWrt --------------------------------------------------------------------
out=$(start owrt "$FIXTURE" 02:00:00:00:01:01 --timeout 180 2>&1)
ok $? "OpenWrt 18.06 rootfs boots as a VM: $out"
like "$out" 'accel=tcg' "under TCG"
owrt_pid=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' <<<"$out")
qexec owrt ip link show eth0 >/dev/null
ok $? "eth0 exists in the OpenWrt guest (virtio_net from our kernel)"
# (OpenWrt's /sbin/init runs preinit, then execs procd as the same PID 1)
for i in $(seq 1 60); do
	comm=$(qexec owrt cat /proc/1/comm 2>&1)
	[ "$comm" = procd ] && break
	sleep 1
done
is "$comm" procd "procd is PID 1"
retry 90 qexec owrt ubus call system board
like "$out" '"distribution": "OpenWrt"' "ubus call system board answers through the agent"
qexec owrt sh -c 'echo to-stderr >&2; exit 7' 2>"$T_TMP/stderr"
is "$?" 7 "the exit status passes through"
is "$(cat "$T_TMP/stderr")" to-stderr "stderr comes back separately"
is "$(echo piped | "$QN" exec --run-dir "$T_TMP/run/tqsim/nodes/owrt" --stdin -- cat)" piped \
	"stdin is forwarded"
touch "$T_TMP/run/tqsim/state"
out=$( (sleep 1; printf '\necho console-$((6*7))\n'; sleep 3) |
	NETSIM_RUN_DIR=$T_TMP/run timeout 30 "$NETSIM" console -s tqsim owrt 2>&1)
like "$out" 'console-42' "netsim console reaches a shell on the serial console"
like "$(cat "$T_TMP/run/tqsim/nodes/owrt/console.log")" 'netsim-init: starting /sbin/init' \
	"the console is logged to console.log"

# --- meshlite: kernel features and the TAP<->veth join --------------------------
# meshlite's busybox tc knows no netem: lay the host's iproute2 tc (Debian 12,
# like meshlite's libc) and the libraries meshlite lacks over the rootfs.
mkdir -p "$T_TMP/files/usr/sbin" "$T_TMP/files/lib/x86_64-linux-gnu"
cp "$(command -v tc)" "$T_TMP/files/usr/sbin/tc-full"
for lib in $(ldd "$(command -v tc)" | awk '/=> \//{print $3}'); do
	case ${lib##*/} in libc.so.*|libm.so.*) ;; *) cp -L "$lib" "$T_TMP/files/lib/x86_64-linux-gnu/" ;; esac
done
out=$(start mesh "$MESHLITE" 02:00:00:00:01:02 --files "$T_TMP/files" --timeout 180 2>&1)
ok $? "meshlite boots as a VM: $out"
mesh_pid=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' <<<"$out")
qexec mesh ip link add bat0 type batadv
ok $? "batman-adv: ip link add bat0 type batadv"
qexec mesh ip link add link eth0 name eth0.29 type vlan id 29
ok $? "8021q: VLAN 29 on eth0"
qexec mesh tc-full qdisc add dev eth0 root netem delay 100ms
ok $? "sch_netem: netem delay on eth0"
qexec mesh ip addr add 10.98.0.2/24 dev eth0 &&
	ip -n tq-peer addr add 10.98.0.1/24 dev p-mesh
ok $? "addresses on both ends"
ip netns exec tq-peer ping -c 3 -W 3 10.98.0.2 >"$T_TMP/ping" 2>&1
ok $? "a plain netns pings the VM across the TAP<->veth join"
like "$(cat "$T_TMP/ping")" 'time=1[0-9][0-9]' "the guest's netem delay shows in the RTT"

# --- teardown ---------------------------------------------------------------------
for node in owrt mesh; do
	"$QN" stop --run-dir "$T_TMP/run/tqsim/nodes/$node"
	ok $? "stop $node"
done
sleep 0.5
is "$(leftovers tqsim "$owrt_pid" "$mesh_pid")" "" "both QEMU processes are gone"
is "$(ls "$T_TMP/run/tqsim/nodes/owrt" "$T_TMP/run/tqsim/nodes/mesh" | grep -Ec 'sock|pid|initrd')" 0 \
	"no sockets, pid files or initrds left"
is "$(ip -n tq-owrt -br link | grep -c tap; ip -n tq-mesh -br link | grep -c tap)" "0
0" "the TAPs vanished with QEMU"
done_testing
