#!/bin/bash
# Benchmark of the radio medium (netsim/medium/engine.c), on hand-made namespaces
# through tests/integration/medium-driver, in one run:
#   - iperf3 (one TCP stream) through a 2-member medium (rate=10gbit, no
#     impairment; and the default 54mbit channel), a plain veth pair and a bridge;
#   - added median latency: ping -c 200 -i 0.01 through each;
#   - medium CPU per 1000 frames (60-byte broadcasts, one sender, one receiver);
#   - 10/50/100 idle members, each broadcasting a 100-byte hello every second:
#     the medium's CPU% of one core.
# Not a test: it prints numbers (docs/performance.md, "Radio medium").  Goals of
# issue 12: >= 1 Gbit/s single stream, <= 100 us added median latency, 100 idle
# members < 5% of a core.
#
#   sudo tests/bench/air.sh          (SECONDS_PER_RUN=5, MEMBERS="10 50 100")
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
NETSIM_BUILD=${NETSIM_BUILD:-$TOP/build}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
MEMBERS=${MEMBERS:-10 50 100}
T_TMP=$(mktemp -d /tmp/netsim-air.XXXXXX)
MEDIUM_PREFIX=m1b
. "$TOP/tests/integration/medium-lib.sh"
SERVER_PID=
HELLO_PIDS=()

cleanup() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	for p in "${HELLO_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	medium_cleanup
	rm -rf "$T_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || { echo "air.sh: needs root" >&2; exit 1; }
command -v iperf3 >/dev/null || { echo "air.sh: needs iperf3" >&2; exit 1; }
[ -x "$MEDIUM_DRIVER" ] || { echo "air.sh: build $MEDIUM_DRIVER first (make)" >&2; exit 1; }

inns() { local n=$1; shift; ip netns exec "$MEDIUM_PREFIX-$n" "$@"; }

iperf() { # iperf SERVER_NODE CLIENT_NODE ADDR: Mbit/s received
	ip netns exec "$MEDIUM_PREFIX-$1" iperf3 -s -1 >/dev/null 2>&1 &
	SERVER_PID=$!
	sleep 0.5
	inns "$2" iperf3 -c "$3" -t "$SECONDS_PER_RUN" -J >"$T_TMP/iperf.json" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
	SERVER_PID=
	awk -F'[:,]' '/"sum_received"/{on=1} on && /"bits_per_second"/{printf "%.0f", $2 / 1e6; exit}' "$T_TMP/iperf.json"
}

median_rtt() { # median_rtt FROM_NODE ADDR: median RTT in us of ping -c 200 -i 0.01
	inns "$1" ping -c 200 -i 0.01 -W 1 "$2" 2>/dev/null |
		sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | sort -n |
		awk '{v[NR] = $1} END {if (NR) printf "%.0f", v[int((NR + 1) / 2)] * 1000; else print "-"}'
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

# --- the plain veth pair and the bridge ----------------------------------------
medium_ns va && medium_ns vb
ip link add eth0 netns $MEDIUM_PREFIX-va type veth peer name eth0 netns $MEDIUM_PREFIX-vb
ip -n $MEDIUM_PREFIX-va addr add 192.168.79.1/24 dev eth0 && ip -n $MEDIUM_PREFIX-vb addr add 192.168.79.2/24 dev eth0
ip -n $MEDIUM_PREFIX-va link set eth0 up && ip -n $MEDIUM_PREFIX-vb link set eth0 up
sleep 0.3
veth_tput=$(iperf vb va 192.168.79.2)
veth_rtt=$(median_rtt va 192.168.79.2)

medium_ns sw && medium_ns a && medium_ns b
medium_member 0 0 a 192.168.77.1 && medium_member 0 1 b 192.168.77.2
ip -n $MEDIUM_PREFIX-sw link add br0 type bridge
ip -n $MEDIUM_PREFIX-sw link set br0 up
ip -n $MEDIUM_PREFIX-sw link set s0-0 master br0 && ip -n $MEDIUM_PREFIX-sw link set s0-1 master br0
sleep 0.3
bridge_tput=$(iperf b a 192.168.77.2)
bridge_rtt=$(median_rtt a 192.168.77.2)
ip -n $MEDIUM_PREFIX-sw link set s0-0 nomaster && ip -n $MEDIUM_PREFIX-sw link set s0-1 nomaster
ip -n $MEDIUM_PREFIX-sw link del br0

# --- through the medium ------------------------------------------------------------
run_medium() { # run_medium RATE: sets tput, rtt, cpu_iperf
	cat >"$T_TMP/two.conf" <<X
node a pos=0,0
node b pos=10,0
segment air0 a b medium=radio rate=$1
X
	medium_start "$T_TMP/two.conf"
	inns a ping -c 3 -i 0.05 192.168.77.2 >/dev/null
	tput=$(iperf b a 192.168.77.2)
	rtt=$(median_rtt a 192.168.77.2)
}
run_medium 10gbit
fast_tput=$tput fast_rtt=$rtt
# CPU per 1000 frames: 200000 small broadcasts a -> b
offered() {
	medium_ctl matrix | perl -MJSON::PP -e '
		my $j = decode_json(do { local $/; <STDIN> });
		my ($p) = grep { $_->{from} eq "a" } @{$j->{segments}[0]{pairs}}; print $p->{offered}'
}
f0=$(offered)
t0=$(cpu_ticks "$MEDIUM_PID")
inns a "$MEDIUM_DRIVER" send eth0 200000 60
sleep 0.5
t1=$(cpu_ticks "$MEDIUM_PID")
frames=$(($(offered) - f0))
cpu_us_per_1000=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v f="$frames" 'BEGIN {printf "%.0f", f ? t / hz * 1e6 / f * 1000 : 0}')
medium_stop
run_medium 54mbit
slow_tput=$tput slow_rtt=$rtt
medium_stop

echo "Throughput (iperf3, 1 TCP stream, ${SECONDS_PER_RUN} s) and median RTT (ping -c 200 -i 0.01):"
printf '  %-34s %10s %10s %12s\n' path Mbit/s "RTT us" "added us"
printf '  %-34s %10s %10s %12s\n' "plain veth pair" "$veth_tput" "$veth_rtt" -
printf '  %-34s %10s %10s %12s\n' "bridge segment" "$bridge_tput" "$bridge_rtt" $((bridge_rtt - veth_rtt))
printf '  %-34s %10s %10s %12s\n' "medium, rate=10gbit (2 members)" "$fast_tput" "$fast_rtt" $((fast_rtt - veth_rtt))
printf '  %-34s %10s %10s %12s\n' "medium, rate=54mbit (2 members)" "$slow_tput" "$slow_rtt" $((slow_rtt - veth_rtt))
echo "Medium CPU: ${cpu_us_per_1000} us per 1000 frames in (60-byte broadcasts, 1 receiver; $frames of 200000 reached the medium)"

# --- idle members sending hellos -----------------------------------------------------
medium_cleanup
echo "Idle members, each broadcasting a 100-byte hello every second (all in range):"
for n in $MEMBERS; do
	medium_ns sw
	{
		for i in $(seq 0 $((n - 1))); do echo "node n$i pos=$((i % 10 * 5)),$((i / 10 * 5))"; done
		printf 'segment air0'
		for i in $(seq 0 $((n - 1))); do printf ' n%s' "$i"; done
		echo ' medium=radio'
	} >"$T_TMP/idle.conf"
	for i in $(seq 0 $((n - 1))); do
		medium_ns "n$i" && medium_member 0 "$i" "n$i" "192.168.80.$((i + 1))"
	done
	medium_start "$T_TMP/idle.conf"
	HELLO_PIDS=()
	for i in $(seq 0 $((n - 1))); do
		ip netns exec "$MEDIUM_PREFIX-n$i" "$MEDIUM_DRIVER" send eth0 14 100 1000000 &
		HELLO_PIDS+=($!)
	done
	sleep 2
	t0=$(cpu_ticks "$MEDIUM_PID")
	sleep 10
	t1=$(cpu_ticks "$MEDIUM_PID")
	pct=$(awk -v t=$((t1 - t0)) -v hz="$HZ" 'BEGIN {printf "%.2f", t / hz / 10 * 100}')
	printf '  %4s members: %6s%% of one core (%s frames/s in, %s out)\n' "$n" "$pct" "$n" $((n * (n - 1)))
	for p in "${HELLO_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	HELLO_PIDS=()
	medium_cleanup
done
