#!/bin/sh
# Micro-benchmark: N network namespaces + N-1 veth pairs in a line, every end up,
# built by netsim/net/netlink.c vs by `ip -batch`.  Needs root; removes everything it
# creates (namespaces /run/netns/nlbench-PID-*), also when interrupted.
# Usage: tests/bench/netlink-micro.sh [N...]     (default: 100 1000)
set -eu
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "netlink-micro: needs root" >&2; exit 1; }

prefix="nlbench-$$-"
bin="${TMPDIR:-/tmp}/netlink-micro-$$"
cleanup() {
	for f in /run/netns/"$prefix"*; do
		[ -e "$f" ] && { umount -l "$f" 2>/dev/null || true; rm -f "$f"; }
	done
	rm -f "$bin"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cc -O2 -std=gnu11 -D_GNU_SOURCE -Iruntime -Inetsim $(pkg-config --cflags libnl-3.0 libnl-route-3.0) \
	-o "$bin" tests/bench/netlink-micro.c netsim/net/netlink.c netsim/net/netns.c runtime/error.c \
	$(pkg-config --libs libnl-3.0 libnl-route-3.0)

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }
# Namespace teardown finishes asynchronously in the kernel; let it settle so one
# run does not pay for the previous one.
settle() { sleep "${SETTLE:-10}"; }

run_ip() {
	n=$1 p="${prefix}ip"
	t0=$(now)
	{
		i=0; while [ $i -lt "$n" ]; do echo "netns add $p$i"; i=$((i + 1)); done
	} | ip -batch -
	t1=$(now)
	{
		i=1; while [ $i -lt "$n" ]; do
			echo "link add eth1 netns $p$((i - 1)) up type veth peer name eth0 netns $p$i"
			i=$((i + 1))
		done
	} | ip -batch -
	t2=$(now)
	# The peer end cannot be brought up by the same request (the kernel answers
	# ENOTCONN), and `ip -batch` has no per-line -n: one `ip -n` per namespace.
	i=1; while [ $i -lt "$n" ]; do ip -n "$p$i" link set eth0 up; i=$((i + 1)); done
	t3=$(now)
	echo "ip -batch  N=$n: namespaces $(elapsed "$t0" "$t1")s, veths $(elapsed "$t1" "$t2")s (peer down)," \
		"+ peers up $(elapsed "$t2" "$t3")s, total $(elapsed "$t0" "$t3")s"
	t0=$(now)
	{
		i=0; while [ $i -lt "$n" ]; do echo "netns del $p$i"; i=$((i + 1)); done
	} | ip -batch -
	echo "ip -batch  N=$n: removal $(elapsed "$t0" "$(now)")s"
}

sizes=${*:-"100 1000"}
for n in $sizes; do
	settle
	"$bin" "$n" "${prefix}nl"
	settle
	run_ip "$n"
done
