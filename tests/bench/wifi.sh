#!/bin/bash
# Benchmark of Wi-Fi segments (medium=wifi: mac80211_hwsim radios carried by
# netsim's medium, docs/wireless.md).  Not a test: it prints numbers.  Everything
# runs under `netsim up --vm` (TCG unless NETSIM_QEMU_ACCEL says otherwise), one
# VM per row, each alone.
#
#   sudo tests/bench/wifi.sh [SIZES...]     (default: 10 25 50)
#   FORWARDING=off ...   the meshes without 802.11s forwarding (babel routes hop
#                        by hop; 802.11s otherwise floods every broadcast)
#   DEGREE=D             gen geo's --degree (default 3; 50 nodes need about 6)
#
# 1. The 3-node line a - b - c (a and c out of range): an 802.11s mesh running
#    babeld, against the same line on wired links in the same run.  Columns:
#    seconds from the start of `up` to its return, and to every node reaching
#    every node (`netsim reach`, polled).
# 2. Random geometric meshes of SIZES nodes (`netsim gen geo N`, the segment made
#    medium=wifi): up, converge (every pair reaches, `netsim converge --timeout
#    300`), and the medium's frames per second over the converged minute.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
N=$BUILD/netsim
SIZES=${*:-10 25 50}
TMP=$(mktemp -d /tmp/netsim-wifibench.XXXXXX)
export NETSIM_KERNEL_DIR=${NETSIM_KERNEL_DIR:-$BUILD/kernel}
export NETSIM_ROOTFS_DIR=${NETSIM_ROOTFS_DIR:-$BUILD/rootfs}
SIM=wfbench
cleanup() {
	"$N" down $SIM >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }

# seconds until `reach` succeeds (up to $2 s), or "-"
reach_time() {
	local start=$1 limit=$2
	while [ "$(echo "$(since "$start") < $limit" | bc)" = 1 ]; do
		if "$N" reach -s $SIM --timeout 5 >/dev/null 2>&1; then
			since "$start"
			return
		fi
	done
	echo "-"
}

# frames the medium offered in all, from `air --json`
offered() {
	"$N" air -s $SIM --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sum(p["offered"] for s in d["segments"] for p in s["pairs"]))' 2>/dev/null || echo 0
}

run_line() { # KIND (wifi|wired)
	local topo=$TMP/line-$1.conf
	{
		echo "sim $SIM"
		echo "node a pos=0,0"
		echo "node b pos=170,0"
		echo "node c pos=340,0"
		if [ "$1" = wifi ]; then
			echo "segment air0 a b c medium=wifi"
		else
			echo "link a b"
			echo "link b c"
		fi
	} >"$topo"
	local start up reach
	start=$(now)
	"$N" up --vm -q "$topo" >"$TMP/up.log" 2>&1 || { echo "up failed: $(tail -n 1 "$TMP/up.log")"; return; }
	up=$(since "$start")
	reach=$(reach_time "$start" 180)
	printf '| 3-node line, %-6s | %6.1f | %s |\n' "$1" "$up" "$reach"
	"$N" down $SIM >/dev/null 2>&1
}

echo "Wi-Fi under up --vm ($(nproc) cpus, accel ${NETSIM_QEMU_ACCEL:-auto}); cpu pressure before: $(awk '/some/ {print $2}' /proc/pressure/cpu)"
echo
echo "| topology | up (s) | all reach all, from the start of up (s) |"
echo "|---|---:|---:|"
run_line wired
run_line wifi

echo
echo "802.11s forwarding ${FORWARDING:-on}, gen geo --degree ${DEGREE:-3} --seed 7"
echo "| nodes | VM memory | up (s) | converged, from the start of up (s) | medium frames/s (converged, 30 s) |"
echo "|---:|---:|---:|---:|---:|"
for n in $SIZES; do
	topo=$TMP/geo$n.conf
	"$N" gen geo "$n" --seed 7 --degree "${DEGREE:-3}" --sim $SIM |
		sed "s/medium=radio/medium=wifi forwarding=${FORWARDING:-on}/" >"$topo"
	mem=$((512 + n * 24))
	start=$(now)
	if ! "$N" up --vm --vm-mem ${mem}M -q "$topo" >"$TMP/up.log" 2>&1; then
		echo "| $n | ${mem} MiB | up failed: $(tail -n 1 "$TMP/up.log") | | |"
		continue
	fi
	up=$(since "$start")
	if "$N" converge -s $SIM --timeout 300 >"$TMP/conv.log" 2>&1; then
		conv=$(since "$start")
		f0=$(offered)
		sleep 30
		f1=$(offered)
		fps=$(( (f1 - f0) / 30 ))
	else
		conv="not within 300 s ($(tail -n 1 "$TMP/conv.log"))"
		fps=-
	fi
	printf '| %d | %d MiB | %.1f | %s | %s |\n' "$n" "$mem" "$up" "$conv" "$fps"
	"$N" down $SIM >/dev/null 2>&1
done
