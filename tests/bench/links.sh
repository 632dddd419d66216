#!/bin/bash
# Benchmark: TCP throughput through 1, 4 and 16 hops of unshaped netsim links
# (meshlite nodes in a line, babel routing, iperf3 run inside the nodes' network
# namespaces), next to a raw veth pair between two bare namespaces, in the same run.
# Not a test: it prints numbers.  Goal: one hop >= 90% of the raw veth pair.
#
#   sudo tests/bench/links.sh [HOPS...]        (default: 1 4 16)
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
NETSIM=${NETSIM:-$TOP/build/netsim}
HOPS=${*:-1 4 16}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
TMP=$(mktemp -d /tmp/netsim-links.XXXXXX)
SIM=benchlinks
RAW=nsbenchraw
SERVER_PID=

cleanup() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	"$NETSIM" down $SIM >/dev/null 2>&1
	ip netns del ${RAW}a 2>/dev/null
	ip netns del ${RAW}b 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || { echo "links.sh: needs root" >&2; exit 1; }
command -v iperf3 >/dev/null || { echo "links.sh: needs iperf3 (apt-get install iperf3)" >&2; exit 1; }

# iperf3 between two namespaces: server in $1, client in $2 towards address $3.
# Prints Mbit/s received.
measure() {
	local server_ns=$1 client_ns=$2 addr=$3
	ip netns exec "$server_ns" iperf3 -s -1 >/dev/null 2>&1 &
	SERVER_PID=$!
	sleep 0.5
	ip netns exec "$client_ns" iperf3 -c "$addr" -t "$SECONDS_PER_RUN" -J >"$TMP/out.json" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
	SERVER_PID=
	awk -F'[:,]' '/"sum_received"/{on=1} on && /"bits_per_second"/{printf "%.0f", $2 / 1e6; exit}' "$TMP/out.json"
}

# Raw veth pair, no netsim: the ceiling.
ip netns add ${RAW}a && ip netns add ${RAW}b
ip -n ${RAW}a link add eth0 type veth peer name eth0 netns ${RAW}b
ip -n ${RAW}a addr add 10.99.0.1/24 dev eth0 && ip -n ${RAW}b addr add 10.99.0.2/24 dev eth0
ip -n ${RAW}a link set eth0 up && ip -n ${RAW}b link set eth0 up
ip -n ${RAW}a link set lo up && ip -n ${RAW}b link set lo up
raw=$(measure ${RAW}a ${RAW}b 10.99.0.1)
ip netns del ${RAW}a; ip netns del ${RAW}b

printf '%-24s %12s %10s\n' "path" "Mbit/s" "vs raw"
printf '%-24s %12s %10s\n' "raw veth pair" "$raw" "100%"
for hops in $HOPS; do
	n=$((hops + 1))
	{
		echo "sim $SIM"
		for i in $(seq 1 $n); do echo "node n$i"; done
		for i in $(seq 1 $hops); do echo "link n$i n$((i + 1))"; done
	} >"$TMP/line.conf"
	"$NETSIM" up -q "$TMP/line.conf" >/dev/null || { echo "links.sh: up failed" >&2; exit 1; }
	"$NETSIM" converge -s $SIM --timeout 120 >/dev/null || echo "links.sh: $hops hops did not converge" >&2
	got=$(measure ${SIM}_n1 ${SIM}_n$n 10.13.0.1)
	pct=$(awk -v a="$got" -v b="$raw" 'BEGIN{printf "%.0f%%", (b > 0 ? 100 * a / b : 0)}')
	printf '%-24s %12s %10s\n' "netsim $hops hop(s)" "$got" "$pct"
	"$NETSIM" down $SIM >/dev/null
done
