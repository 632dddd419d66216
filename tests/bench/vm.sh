#!/bin/bash
# Benchmark of QEMU nodes (netsim/vm/qemu.c).  Not a test: it prints numbers.
#
#   sudo tests/bench/vm.sh [RUNS]          (default 3)
#
# 1. Boot: seconds from qemu_node_start() to the guest agent answering, for one
#    meshlite node under TCG (what CI gets), RUNS times; QEMU's RSS right after
#    boot and 10 s later.  Memory is the default 128 MiB.
# 2. The TAP<->veth join: the tc mirred redirect net/redirect.c makes, against a bridge
#    (the same TAP and veth as ports of one bridge), measured on one VM: iperf3
#    TCP throughput (5 s, guest -> peer netns) and ping RTT (20 pings).  Uses
#    KVM when /dev/kvm opens (under TCG the guest CPU is the bottleneck and both
#    joins measure the same), else TCG.  iperf3 in the guest is the host's,
#    laid over meshlite with --files (both are Debian 12).
# 3. The whole sim in a VM (`netsim up --vm`, netsim/sim/vmsim.c): a 3-node meshlite
#    line (topologies/3node.conf), TCG, the default 512 MiB, RUNS times: seconds
#    from `up` to its return (VM booted and the sim up inside) and to all-reach-all;
#    QEMU's RSS and the guest's own view of its memory with the sim up.
#
#   sudo tests/bench/vm.sh RUNS sim        only part 3
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
QN=$BUILD/tests/qemu-node
RUNS=${1:-3}
MESHLITE=${NETSIM_ROOTFS_DIR:-$BUILD/rootfs}/meshlite.tar.gz
TMP=$(mktemp -d /tmp/netsim-vmbench.XXXXXX)
export NETSIM_KERNEL_DIR=${NETSIM_KERNEL_DIR:-$BUILD/kernel}

cleanup() {
	"$BUILD/netsim" down vmbench >/dev/null 2>&1
	"$QN" stop --run-dir "$TMP/run" >/dev/null 2>&1
	ip netns del tqb-node 2>/dev/null
	ip netns del tqb-peer 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

whole_sim() {
	echo "== up --vm of a 3-node line, TCG, 512 MiB (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
	sed 's/^sim 3node/sim vmbench/' "$TOP/topologies/3node.conf" >"$TMP/vmbench.conf"
	for i in $(seq 1 "$RUNS"); do
		local t0 t1 t2 pid
		t0=$(date +%s.%N)
		NETSIM_QEMU_ACCEL=tcg "$BUILD/netsim" up --vm -q "$TMP/vmbench.conf" >/dev/null || exit 1
		t1=$(date +%s.%N)
		"$BUILD/netsim" reach -s vmbench --timeout 120 >/dev/null || echo "(reach failed)"
		t2=$(date +%s.%N)
		pid=$(awk '{print $1}' /run/netsim/vmbench/vm.d/qemu.pid)
		printf 'run %d: up --vm %.1f s, all reach all %.1f s after; QEMU RSS %d MiB; guest: %s\n' \
			"$i" "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" $(awk '/^VmRSS/ {print int($2 / 1024)}' "/proc/$pid/status") \
			"$("$QN" exec --run-dir /run/netsim/vmbench/vm.d -- /netsim/bin/free -m |
				awk '/^Mem/ {print "used " $3 " MiB, shared (tmpfs/root) " $5 " MiB, available " $7 " MiB"}')"
		"$BUILD/netsim" down vmbench >/dev/null
	done
}

[ "$(id -u)" = 0 ] || { echo "vm.sh: needs root" >&2; exit 1; }
# (a kernel dir given in NETSIM_KERNEL_DIR is used as it is)
if [ ! -f "$NETSIM_KERNEL_DIR/vmlinuz" ]; then
	make -C "$TOP" BUILD="$BUILD" kernel >/dev/null || exit 1
fi
make -C "$TOP" BUILD="$BUILD" "$BUILD/netsim" "$BUILD/tests/qemu-node" >/dev/null || exit 1
if [ "${2:-}" = sim ]; then
	whole_sim
	exit 0
fi
command -v iperf3 >/dev/null || { echo "vm.sh: needs iperf3 (apt-get install iperf3)" >&2; exit 1; }

ip netns add tqb-node && ip netns add tqb-peer &&
	ip link add eth0 netns tqb-node type veth peer name eth0 netns tqb-peer &&
	ip -n tqb-node link set eth0 up && ip -n tqb-peer link set eth0 up &&
	ip -n tqb-peer addr add 10.97.0.1/24 dev eth0 || exit 1
mkdir -p "$TMP/run"

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
start() { # ACCEL [OPTIONS]
	local accel=$1
	shift
	NETSIM_QEMU_ACCEL=$accel "$QN" start --name bench --netns /run/netns/tqb-node \
		--run-dir "$TMP/run" --rootfs "$MESHLITE" --nic eth0=02:00:00:00:0b:01 --timeout 300 "$@"
}

echo "== boot to agent-ready, meshlite, TCG, 128 MiB (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
for i in $(seq 1 "$RUNS"); do
	out=$(start tcg) || { echo "start failed: $out"; exit 1; }
	pid=${out#pid=}
	pid=${pid%% *}
	boot_ms=${out##*boot_ms=}
	rss0=$(rss_kib "$pid")
	sleep 10
	rss10=$(rss_kib "$pid")
	printf 'run %d: %d.%03d s to agent-ready; QEMU RSS %d MiB at ready, %d MiB 10 s later\n' \
		"$i" $((boot_ms / 1000)) $((boot_ms % 1000)) $((rss0 / 1024)) $((rss10 / 1024))
	"$QN" stop --run-dir "$TMP/run"
done

mkdir -p "$TMP/files/usr/bin" "$TMP/files/lib/x86_64-linux-gnu"
cp "$(command -v iperf3)" "$TMP/files/usr/bin/iperf3"
for lib in $(ldd "$(command -v iperf3)" | awk '/=> \//{print $3}'); do
	case ${lib##*/} in libc.so.*|libm.so.*) ;; *) cp -L "$lib" "$TMP/files/lib/x86_64-linux-gnu/" ;; esac
done
# KVM when it works (a nested /dev/kvm may open and still fail), else TCG.
accel=kvm
out=$(start kvm --files "$TMP/files" 2>&1) || {
	echo "(KVM did not boot here: $(echo "$out" | grep -m1 -o 'qemu-system[^\n]*error[^\n]*'); using TCG)"
	accel=tcg
	out=$(start tcg --files "$TMP/files") || { echo "start failed: $out"; exit 1; }
}
qexec() { "$QN" exec --run-dir "$TMP/run" --timeout 60 -- "$@"; }
qexec ip addr add 10.97.0.2/24 dev eth0 || exit 1
qexec iperf3 -s -D || exit 1
sleep 1

measure() { # LABEL
	local rtt bw
	rtt=$(ip netns exec tqb-peer ping -c 20 -i 0.2 -q 10.97.0.2 | awk -F/ '/^rtt/ {print $5}')
	bw=$(ip netns exec tqb-peer iperf3 -c 10.97.0.2 -t 5 -R -f m 2>&1 |
		awk '/receiver/ {print $7, $8}')
	printf '%-8s ping avg %s ms, iperf3 guest->peer %s\n' "$1" "${rtt:-?}" "${bw:-?}"
}
to_mirred() { # the join net/redirect.c makes, by hand
	for pair in "eth0 tap0" "tap0 eth0"; do
		set -- $pair
		tc -n tqb-node qdisc add dev "$1" ingress &&
			tc -n tqb-node filter add dev "$1" parent ffff: protocol all prio 1 u32 \
				match u32 0 0 action mirred egress redirect dev "$2" || exit 1
	done
}
echo "== TAP<->veth join ($accel); the first round warms TCG's translation cache up"
measure warm-up >/dev/null
measure mirred
tc -n tqb-node qdisc del dev eth0 ingress
tc -n tqb-node qdisc del dev tap0 ingress
ip -n tqb-node link add br0 type bridge &&
	ip -n tqb-node link set eth0 master br0 && ip -n tqb-node link set tap0 master br0 &&
	ip -n tqb-node link set br0 up || exit 1
sleep 2   # the bridge port's forwarding delay is 0 with STP off, but learning takes a frame
measure bridge
ip -n tqb-node link del br0
to_mirred
sleep 1
measure mirred
"$QN" stop --run-dir "$TMP/run"
whole_sim
