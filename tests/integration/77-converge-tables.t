#!/bin/bash
# `netsim converge` reads every node's routing table from the host before it
# sends a probe (docs/scenarios.md, "netsim converge"): a 6x6 grid converges
# with the full sweep and with the sample, agrees with `reach`, and neither a
# route missing from one table nor a node that stops answering while its
# routes are all there is ever reported as converged.
. "$(dirname "$0")/lib.sh"
need_root
need_meshlite

SIM=cv6
cleanup_sim $SIM

json_check() { # json_check PYTHON-EXPR < JSON: exit 0 when the expression is true
	python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"
}

# --- abuse: the new option -------------------------------------------------------
out=$("$NETSIM" converge --sweep some -s nosuch 2>&1)
is $? 2 "--sweep some is a usage error"
like "$out" "--sweep wants all or sample" "...saying what it wants"
out=$("$NETSIM" converge --sweep '' -s nosuch 2>&1)
is $? 2 "--sweep '' too"
out=$("$NETSIM" converge --sweep "$(printf 'all\033[2J')" -s nosuch 2>&1)
is $? 2 "--sweep with control bytes too"
ok $([ "$(echo "$out" | grep -c $'\033')" -eq 0 ]; echo $?) "...and none reach the terminal"

# --- a 6x6 grid ------------------------------------------------------------------
"$NETSIM" gen grid 6x6 --sim $SIM >"$T_TMP/grid.conf"
out=$("$NETSIM" up -q "$T_TMP/grid.conf" 2>&1)
ok $? "up a 6x6 grid as $SIM"

json=$("$NETSIM" converge -s $SIM --timeout 120 --json 2>&1)
ok $? "converge exits 0"
echo "$json" | json_check 'd["converged"] and d["pairs_ok"] == d["pairs"] == 1260 and d["missing"] == [] and d["sweep"] == "all" and d["probed"] == 1260 and d["tables_seconds"] is not None and 0 <= d["tables_seconds"] <= d["seconds"] and d["fidelity"]["status"] in ("ok", "degraded")'
ok $? "--json: all 1260 pairs, every one echoed after the tables were complete ($(echo "$json" | head -c 200))"

out=$("$NETSIM" reach -s $SIM -q --timeout 30 2>&1)
ok $? "reach agrees: exit 0 ($out)"

json=$("$NETSIM" converge -s $SIM --sweep sample --timeout 60 --json 2>&1)
ok $? "converge --sweep sample exits 0"
echo "$json" | json_check 'd["converged"] and d["pairs_ok"] == d["pairs"] == 1260 and d["sweep"] == "sample" and d["probed"] == 36 * 16'
ok $? "--sweep sample: 16 probes per node, 576 in all ($(echo "$json" | head -c 200))"
out=$("$NETSIM" converge -s $SIM --sweep sample --timeout 60 2>&1)
like "$(echo "$out" | head -1)" "^converge $SIM: every node has a path to every node in the routing tables \(1260 pairs\) and 576 sampled pairs answered, after [0-9.]+ s$" \
	"the text says what the sample promises ($(echo "$out" | head -1))"
like "$(echo "$out" | tail -1)" "^fidelity: (ok|degraded: .+)$" "...and ends with the fidelity line"

# --- a route missing from one table: never converged -------------------------------
ip netns exec ${SIM}_n1 ip route add unreachable 10.13.0.36/32 table local
for sweep in all sample; do
	json=$("$NETSIM" converge -s $SIM --sweep $sweep --timeout 2 --json 2>&1)
	is $? 1 "--sweep $sweep: n1 without a route to n36: exit 1"
	# nodes whose path to n36 runs through n1 miss it too (babel may route
	# so while it settles), but nothing else may be missing
	echo "$json" | json_check 'not d["converged"] and ["n1", "n36"] in d["missing"] and all(m[1] == "n36" for m in d["missing"]) and d["pairs_ok"] == 1260 - len(d["missing"]) and d["tables_seconds"] is None and d["probed"] == 0 and d["sweep"] == "'$sweep'"'
	ok $? "--sweep $sweep: n1->n36 missing, found in the tables, nothing probed ($(echo "$json" | head -c 200))"
done
out=$("$NETSIM" converge -s $SIM --timeout 1 2>&1)
like "$(echo "$out" | head -1)" "^converge $SIM: not converged after [0-9.]+ s: [0-9]+ of 1260 pairs missing \(no path in the routing tables\):( n[0-9]+->n36)* n1->n36( n[0-9]+->n36)*$" \
	"the text names the pair and why ($(echo "$out" | head -1))"
ip netns exec ${SIM}_n1 ip route del unreachable 10.13.0.36/32 table local

# --- every table complete, but n36 does not answer: the sweep decides --------------
ip netns exec ${SIM}_n36 sysctl -q -w net.ipv4.icmp_echo_ignore_all=1
json=$("$NETSIM" converge -s $SIM --timeout 3 --json 2>&1)
is $? 1 "n36 ignores echo: converge (full sweep) exits 1"
echo "$json" | json_check 'not d["converged"] and d["tables_seconds"] is not None and d["pairs"] - d["pairs_ok"] == 35 and all(m[1] == "n36" for m in d["missing"])'
ok $? "...its 35 pairs missing though every table has their routes"
json=$("$NETSIM" converge -s $SIM --sweep sample --timeout 3 --json 2>&1)
is $? 1 "and with the sample: exit 1"
echo "$json" | json_check 'not d["converged"] and d["tables_seconds"] is not None and len(d["missing"]) > 0 and all(m[1] == "n36" for m in d["missing"])'
ok $? "...the sampled pairs to n36 missing ($(echo "$json" | head -c 160))"
ip netns exec ${SIM}_n36 sysctl -q -w net.ipv4.icmp_echo_ignore_all=0

out=$("$NETSIM" converge -s $SIM --timeout 60 2>&1)
ok $? "put back: converged again ($(echo "$out" | head -1))"

out=$("$NETSIM" down $SIM 2>&1)
ok $? "down"
is "$(settled_leftovers $SIM)" "" "nothing of $SIM is left"
done_testing
