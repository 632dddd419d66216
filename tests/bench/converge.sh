#!/bin/bash
# Benchmark: how long meshlite sims take to come up and to converge (every node
# reaches every node, measured by `netsim converge`), for generated grids and
# random topologies of the same sizes, next to a baseline netsim (main's
# build) in the same run.  Not a test: it prints a table.
#
#   sudo tests/bench/converge.sh [TOPOLOGY...]
#       TOPOLOGY: grid:RxC or random:N[:DEGREE]
#       (default: grid:10x10 random:100:3.6 grid:16x16 random:256:3.75
#                 grid:32x32 random:1024:3.88 -- the random degrees match
#                 the grids' links per node)
#
#   NETSIM_BASELINE=/path/to/main/build/netsim   the baseline binary (default:
#       none).  It runs only up to BASELINE_MAX_NODES nodes (default 100): main
#       at 48c7b08 overflows the host's neighbour tables above ~500 links, and
#       that breaks routing in every sim on the host, so larger baselines are
#       left to a quiet machine (BASELINE_MAX_NODES=1024 to force them).
#   CONVERGE_TIMEOUT  seconds converge waits (default 300)
#   BENCH_SIM  the sim's name (default bconv), for machines where sessions
#       keep to name prefixes
#
# Columns: up = `netsim up` alone; converge = `netsim converge` started right
# after up returned; total = from the start of up to converged (the goal:
# grid 32x32 <= 60 s on 2 cores); pairs = "all", or reached/pairs, with "tables
# T s" when converge reports when the tables carried every pair and
# "sampled N" when its echo sweep was a sample (docs/scenarios.md); cpu =
# /proc/pressure/cpu "some avg10" when the row ended, since the machine may be
# shared.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
NETSIM=${NETSIM:-$TOP/build/netsim}
BASELINE=${NETSIM_BASELINE:-}
BASELINE_MAX_NODES=${BASELINE_MAX_NODES:-100}
TIMEOUT=${CONVERGE_TIMEOUT:-300}
TOPOLOGIES=${*:-grid:10x10 random:100:3.6 grid:16x16 random:256:3.75 grid:32x32 random:1024:3.88}
TMP=$(mktemp -d /tmp/netsim-bench.XXXXXX)
SIM=${BENCH_SIM:-bconv}
NEIGH=/proc/sys/net/ipv6/neigh/default
NEIGH4=/proc/sys/net/ipv4/neigh/default
orig="$(cat $NEIGH/gc_thresh2 $NEIGH/gc_thresh3 $NEIGH4/gc_thresh2 $NEIGH4/gc_thresh3 2>/dev/null)"

cleanup() {
	"$NETSIM" down $SIM >/dev/null 2>&1
	[ -n "$BASELINE" ] && "$BASELINE" down $SIM >/dev/null 2>&1
	# `down` restores the host's neighbour limits; should it not have (a
	# crash), put back what this run started with unless a sim needs them
	if ! ls /run/netsim/*/neigh >/dev/null 2>&1; then
		set -- $orig
		if [ $# = 4 ] && [ "$(cat $NEIGH/gc_thresh3)" != "$2" ]; then
			echo "$2" >$NEIGH/gc_thresh3; echo "$1" >$NEIGH/gc_thresh2
		fi
		if [ $# = 4 ] && [ "$(cat $NEIGH4/gc_thresh3)" != "$4" ]; then
			echo "$4" >$NEIGH4/gc_thresh3; echo "$3" >$NEIGH4/gc_thresh2
		fi
		rm -f /run/netsim/neigh-limits.saved
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || { echo "converge.sh: needs root" >&2; exit 1; }
[ -x "$NETSIM" ] || { echo "converge.sh: $NETSIM not built (make)" >&2; exit 1; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b - a}'; }
cpu_some() { awk '/^some/{sub("avg10=", "", $2); print $2 "%"}' /proc/pressure/cpu; }

gen() { # TOPOLOGY FILE -> nodes in $NODES, links in $LINKS
	local kind=${1%%:*} rest=${1#*:} out=$2
	case $kind in
	grid) "$NETSIM" gen grid "$rest" --sim $SIM >"$out" ;;
	random)
		local n=${rest%%:*} degree=${rest#*:}
		[ "$degree" = "$rest" ] && degree=3
		"$NETSIM" gen random "$n" --degree "$degree" --seed 11 --sim $SIM >"$out" ;;
	*) echo "converge.sh: unknown topology $1" >&2; return 1 ;;
	esac
	NODES=$(grep -c '^node ' "$out")
	LINKS=$(grep -c '^link ' "$out")
}

# run BINARY FILE -> "up converge total result"
run() {
	local bin=$1 file=$2 t0 t1 t2 json
	t0=$(now)
	if ! "$bin" up -q "$file" >"$TMP/up.out" 2>&1; then
		echo "- - - up-failed"
		sed 's/^/# /' "$TMP/up.out" >&2
		"$bin" down $SIM >/dev/null 2>&1
		return
	fi
	t1=$(now)
	json=$("$bin" converge -s $SIM --timeout "$TIMEOUT" --json 2>&1)
	t2=$(now)
	local result
	result=$(echo "$json" | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
    out = "all" if d["converged"] else "%d/%d" % (d["pairs_ok"], d["pairs"])
    notes = []
    if d.get("tables_seconds") is not None:
        notes.append("tables %.1f s" % d["tables_seconds"])
    if d.get("sweep") == "sample" and d.get("probed"):
        notes.append("sampled %d" % d["probed"])
    # one word for the shell: blanks become _ and come back in the row
    print((out + (" (" + ", ".join(notes) + ")" if notes else "")).replace(" ", "_"))
except Exception:
    print("error")')
	"$bin" down $SIM >/dev/null 2>&1
	echo "$(elapsed "$t0" "$t1") $(elapsed "$t1" "$t2") $(elapsed "$t0" "$t2") $result"
}

printf '| topology | nodes | links | netsim up (s) | converge (s) | total (s) | pairs | cpu | baseline up / converge / total (s) | baseline pairs |\n'
printf '|---|---:|---:|---:|---:|---:|---|---:|---|---|\n'
for topo in $TOPOLOGIES; do
	gen "$topo" "$TMP/t.conf" || continue
	set -- $(run "$NETSIM" "$TMP/t.conf")
	row="| $topo | $NODES | $LINKS | $1 | $2 | $3 | ${4//_/ } | $(cpu_some)"
	if [ -z "$BASELINE" ]; then
		row="$row | (no NETSIM_BASELINE) | |"
	elif [ "$NODES" -gt "$BASELINE_MAX_NODES" ]; then
		row="$row | skipped (> $BASELINE_MAX_NODES nodes) | |"
	else
		set -- $(run "$BASELINE" "$TMP/t.conf")
		row="$row | $1 / $2 / $3 | ${4//_/ } |"
	fi
	echo "$row"
done
