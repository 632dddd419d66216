#!/bin/bash
# Benchmark: how long `netsim up`/`down` take for line topologies of N nodes, and
# memory per idle meshlite node, next to a naive `ip -batch` baseline doing the
# same namespaces and veth pairs, in the same run.  Not a test: it prints numbers.
#
#   sudo tests/bench/scale.sh [N...]          (default: 10 100 1000)
#
# Columns: baseline = ip -batch (netns add + veth pairs created in place) plus one
# `ip -n NS link set eth0 up` per namespace for the far ends;
# bare = netsim with an idle init (namespaces + links + containers);
# meshlite = netsim with the meshlite init running babeld.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
NETSIM=${NETSIM:-$TOP/build/netsim}
SIZES=${*:-10 100 1000}
TMP=$(mktemp -d /tmp/netsim-bench.XXXXXX)
BASE=nsbench
SIM=bench

cleanup() {
	"$NETSIM" down $SIM >/dev/null 2>&1
	if [ -f "$TMP/down.batch" ]; then ip -batch "$TMP/down.batch" >/dev/null 2>&1; fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || { echo "scale.sh: needs root" >&2; exit 1; }
[ -x "$NETSIM" ] || { echo "scale.sh: $NETSIM not built (make)" >&2; exit 1; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b - a}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", (b > 0 ? a / b : 0)}'; }
mem_avail_kib() { awk '/^MemAvailable:/{print $2}' /proc/meminfo; }

gen_topology() { # N INIT
	local n=$1 init=$2
	{
		echo "sim $SIM"
		if [ -n "$init" ]; then echo "defaults rootfs=meshlite init=$init"; else echo "defaults rootfs=meshlite"; fi
		for i in $(seq 1 "$n"); do echo "node n$i"; done
		for i in $(seq 1 $((n - 1))); do echo "link n$i n$((i + 1))"; done
	} >"$TMP/line$n.conf"
}

baseline() { # N -> sets B_UP B_DOWN
	local n=$1
	: >"$TMP/up.batch"
	: >"$TMP/down.batch"
	for i in $(seq 1 "$n"); do
		echo "netns add $BASE$i" >>"$TMP/up.batch"
		echo "netns del $BASE$i" >>"$TMP/down.batch"
	done
	for i in $(seq 1 $((n - 1))); do
		echo "link add eth1 netns $BASE$i up type veth peer name eth0 netns $BASE$((i + 1))" >>"$TMP/up.batch"
	done
	local t0 t1 t2
	t0=$(now)
	ip -batch "$TMP/up.batch" >/dev/null || echo "baseline up failed" >&2
	# The kernel will not set a veth peer up while creating it, and ip -batch has
	# no per-line netns: the far ends need one `ip -n` each.
	for i in $(seq 2 "$n"); do ip -n $BASE$i link set eth0 up; done
	t1=$(now)
	ip -batch "$TMP/down.batch" >/dev/null || echo "baseline down failed" >&2
	t2=$(now)
	rm -f "$TMP/down.batch"
	B_UP=$(elapsed "$t0" "$t1")
	B_DOWN=$(elapsed "$t1" "$t2")
}

# Proportional set size (KiB) of every process inside the sim's nodes: the memory
# the nodes' processes really cost, shared pages split between their users.
sim_pss_kib() {
	# One find lists every process's net namespace, one awk sums the Pss of
	# those in the sim's (a fork per process took minutes at N=1000).  Netns
	# names: SIM_NODE (older builds: SIM-NODE).
	local inodes
	inodes=$(find /run/netns -maxdepth 1 \( -name "${SIM}_*" -o -name "${SIM}-*" \) \
		-exec stat -L -c %i {} + 2>/dev/null | sort -u | tr '\n' ' ')
	find /proc -mindepth 3 -maxdepth 3 -path '/proc/[0-9]*/ns/net' -printf '%h %l\n' 2>/dev/null |
		awk -v inodes="$inodes" '
		BEGIN { n = split(inodes, a, " "); for (i = 1; i <= n; i++) want["net:[" a[i] "]"] = 1 }
		want[$2] {
			f = $1; sub(/\/ns$/, "/smaps_rollup", f)
			while ((getline line < f) > 0)
				if (line ~ /^Pss:/) { split(line, w, " "); total += w[2] }
			close(f)
		}
		END { print total + 0 }'
}

netsim_run() { # N INIT -> sets S_UP S_DOWN S_MEM S_PSS
	local n=$1 init=$2 t0 t1 t1b t2 m0 m1
	gen_topology "$n" "$init"
	sync
	m0=$(mem_avail_kib)
	t0=$(now)
	"$NETSIM" up -q "$TMP/line$n.conf" >/dev/null || echo "netsim up failed (N=$n)" >&2
	t1=$(now)
	sleep 5  # let inits settle (babeld's first hellos)
	m1=$(mem_avail_kib)
	S_MEM=$(awk -v a="$m0" -v b="$m1" -v n="$n" 'BEGIN{printf "%.0f", (a - b) / n}')
	S_PSS=$(awk -v p="$(sim_pss_kib)" -v n="$n" 'BEGIN{printf "%.0f", p / n}')
	t1b=$(now)
	"$NETSIM" down $SIM >/dev/null || echo "netsim down failed (N=$n)" >&2
	t2=$(now)
	S_UP=$(elapsed "$t0" "$t1")
	S_DOWN=$(elapsed "$t1b" "$t2")
}

printf '%-6s | %-17s | %-17s | %-15s | %-15s | %s\n' N "ip-batch up/down" \
	"netsim bare up/dn" "ratio up/down" "meshlite up/dn" "KiB/meshlite node: MemAvail / Pss"
for n in $SIZES; do
	baseline "$n"
	netsim_run "$n" "\"/bin/sleep 2147483647\""
	bare_up=$S_UP bare_down=$S_DOWN
	netsim_run "$n" ""
	r_up=$(ratio "$bare_up" "$B_UP")
	r_down=$(ratio "$bare_down" "$B_DOWN")
	printf '%-6s | %7s / %-7s | %7s / %-7s | %5sx / %-6sx | %6s / %-6s | %6s / %s\n' "$n" \
		"$B_UP" "$B_DOWN" "$bare_up" "$bare_down" "$r_up" "$r_down" "$S_UP" "$S_DOWN" \
		"$S_MEM" "$S_PSS"
done
