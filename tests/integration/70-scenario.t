#!/bin/bash
# Live links and faults: `converge`, `reach --json/--watch`, and scenario files
# run by `netsim run` (docs/scenarios.md) — parse errors stop everything, a cut
# really cuts, and babel reroutes around a cut link in a ring.
. "$(dirname "$0")/lib.sh"
need_root
need_meshlite

SIM=ts3
RING=ts6
cleanup_sim $SIM
cleanup_sim $RING

json_check() { # json_check PYTHON-EXPR < JSON: exit 0 when the expression is true
	python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"
}

# --- scenario syntax, without any sim --------------------------------------------
bad=$(write_topo bad.scenario <<'EOF'
# a good line, then mistakes: nothing of it may run
at 0s link n1 n2 down
at 5 link n1 n2 up
expect reach n1 n2 after 5s
EOF
)
out=$("$NETSIM" run --check "$bad" 2>&1)
ok $([ $? -eq 1 ]; echo $?) "run --check: a scenario with errors is refused"
like "$out" "netsim: $bad:3: at \`5\`: expected a time" "...FILE:LINE of the bad time"
like "$out" "netsim: $bad:4: expect: expected" "...and of the bad expectation (all errors)"
out=$("$NETSIM" run --check "$TOP/topologies/ring6-cut.scenario" 2>&1)
ok $? "run --check: topologies/ring6-cut.scenario is valid ($out)"

# --- 3node: converge, reach --json, --watch ---------------------------------------
out=$("$NETSIM" up -q -n $SIM "$TOP/topologies/3node.conf" 2>&1)
ok $? "up 3node as $SIM"

out=$("$NETSIM" converge -s $SIM --timeout 60 2>&1)
ok $? "converge exits 0"
like "$out" "^converge $SIM: every node reaches every node \(6 pairs\) after [0-9]+\.[0-9] s$" \
	"converge prints the seconds ($out)"
out=$("$NETSIM" converge -s $SIM --timeout 30 --json 2>&1)
echo "$out" | json_check 'd["converged"] is True and d["pairs"] == 6 and d["missing"] == [] and d["seconds"] >= 0'
ok $? "converge --json parses: converged, 6 pairs, none missing"

out=$("$NETSIM" reach -s $SIM --json 2>&1)
ok $? "reach --json exits 0"
echo "$out" | json_check 'd["pairs_ok"] == 6 == d["pairs"] and d["nodes"] == ["n1","n2","n3"] and d["matrix"][0] == [None, True, True] and d["rtt_ms"][0][0] is None and d["rtt_ms"][0][2] > 0 and "seconds" in d'
ok $? "reach --json parses: matrix, pairs_ok/pairs, rtt_ms, seconds"

out=$("$NETSIM" reach -s $SIM --watch --count 2 --interval 0.5 2>&1)
ok $? "reach --watch --count 2 exits 0 (all reached in the last round)"
is "$(echo "$out" | grep -c "^reach $SIM: 6/6 pairs")" 2 "--watch: two rounds, two summary lines"
like "$out" "round 2" "--watch: rounds are numbered"
ok $([ "$(echo "$out" | grep -c $'\033')" -eq 0 ]; echo $?) "--watch: no terminal escapes when not a tty"
out=$("$NETSIM" reach -s $SIM --watch --count 2 --interval 0.3 --json 2>&1)
is "$(echo "$out" | wc -l)" 2 "--watch --json: one object per round"
echo "$out" | tail -1 | json_check 'd["round"] == 2 and d["pairs_ok"] == 6'
ok $? "--watch --json: each line parses"
out=$("$NETSIM" reach -s $SIM --watch --timeout 5 2>&1)
is $? 2 "--watch with --timeout is a usage error"

# --- scenario errors against the sim: nothing runs ---------------------------------
out=$("$NETSIM" run -s $SIM "$bad" 2>&1)
ok $([ $? -eq 1 ]; echo $?) "run: a scenario with a syntax error fails"
like "$out" "$bad:3: at \`5\`" "...reports FILE:LINE"
ok $(echo "$out" | grep -q "^run "; [ $? -ne 0 ]; echo $?) "...and prints no timeline"
state=$(ip -n ${SIM}_n1 -o link show eth0 2>&1)
like "$state" "[<,]UP[,>]" "...and its first line (link n1 n2 down) did not run"

names=$(write_topo names.scenario <<'EOF'
at 0s link n1 n4 down
expect reach n1 n3 within 5s
at 1s node n9 restart
EOF
)
out=$("$NETSIM" run -s $SIM "$names" 2>&1)
ok $([ $? -eq 1 ]; echo $?) "run: names not in the sim are refused"
like "$out" "$names:1: link: the sim has no node n4" "...link end, with FILE:LINE"
like "$out" "$names:3: node: the sim has no node n9" "...node action, with FILE:LINE"

# --- actions need `netsim link` ------------------------------------------------------
if ! "$NETSIM" link --help >/dev/null 2>&1; then
	ok 0 "# skip netsim link not available"
	done_testing
	exit
fi

cut=$(write_topo cut.scenario <<'EOF'
expect reach all within 60s
at 0s link n1 n2 down          # "at 0s" after an expectation: right after it
expect noreach n1 n3 within 5s # the cut really cut: n1's only way out is gone
at 0s link n1 n2 up
expect reach all within 30s
EOF
)
out=$("$NETSIM" run -s $SIM "$cut" 2>&1)
ok $? "run: cut and heal on 3node passes"
like "$out" "expect noreach n1 n3 within 5s +PASS" "...the cut cut n1 off"
like "$out" "expect reach all within 30s +PASS after [0-9.]+ s" "...and healing reconverged"
like "$out" "PASS: 3/3 expectations passed" "...summary"

# one pair, human output: '1/1 pair'; it heals and reconverges before the next run
single=$(write_topo single.scenario <<'EOF'
expect noreach n1 n3 within 1s
at 0s link n1 n2 down
expect reach n1 n3 within 2s
at 0s link n1 n2 up
expect reach all within 60s
EOF
)
out=$("$NETSIM" run -s $SIM "$single" 2>&1)
like "$out" "expect noreach n1 n3 within 1s +FAIL: 1/1 pair still answering after 1s" \
	"run: one pair is '1/1 pair', not '1/1 pairs' ($out)"
like "$out" "expect reach n1 n3 within 2s +FAIL: 0/1 pair answered within 2s" "...when none answered too"
like "$out" "FAIL: 1/3 expectations passed" "...three expectations stay plural"

fail=$(write_topo fail.scenario <<'EOF'
expect noreach n1 n3 within 1s
at 0s link n1 n2 down
expect reach n1 n3 within 2s
at 0s link n1 n2 up
EOF
)
out=$("$NETSIM" run -s $SIM --json "$fail" 2>&1)
ok $([ $? -eq 1 ]; echo $?) "run: failing expectations make the exit status 1"
echo "$out" | json_check 'd["ok"] is False and d["passed"] == 0 and d["expectations"] == 2 and [s["ok"] for s in d["steps"]] == [False, True, False, True] and d["steps"][2]["seconds"] is None'
ok $? "run --json: per-step results (both expectations FAIL, both actions ran)"
one=$(write_topo one.scenario <<'EOF'
expect reach n1 n3 within 60s # after the link up above
EOF
)
is "$("$NETSIM" run --check "$one" 2>&1)" "$one: 1 step, 1 expectation" "run --check: '1 step, 1 expectation'"
out=$("$NETSIM" run -s $SIM "$one" 2>&1)
like "$out" "on sim $SIM: 1 step, 1 expectation" "run: its header speaks singular"
like "$out" "PASS: 1/1 expectation passed" "...and so does its summary"

badaction=$(write_topo badaction.scenario <<'EOF'
at 0s link n1 n2 set loss=1% delay=1ms
expect reach all within 5s
EOF
)
out=$("$NETSIM" run -s $SIM "$badaction" 2>&1)
rc=$?
if echo "$out" | grep -q "FAILED"; then
	is $rc 1 "run: a failing action fails the run"
	like "$out" " \| netsim: " "...with the action's own error message"
	like "$out" "expect reach all within 5s +skipped" "...and the rest is skipped"
else
	ok 0 "# skip this kernel has sch_netem: link set delay= does not fail here"
fi
"$NETSIM" link -s $SIM n1 n2 clear >/dev/null 2>&1

"$NETSIM" down $SIM >/dev/null 2>&1

# --- ring6: babel reroutes around a cut link -----------------------------------------
ring="$TOP/topologies/ring6.conf"
if [ ! -f "$ring" ]; then
	ring=$(write_topo ring6.conf <<'EOF'
defaults rootfs=meshlite
node n1
node n2
node n3
node n4
node n5
node n6
link n1 n2
link n2 n3
link n3 n4
link n4 n5
link n5 n6
link n1 n6
EOF
)
fi
out=$("$NETSIM" up -q -n $RING "$ring" 2>&1)
ok $? "up ring6 as $RING"
out=$("$NETSIM" run -s $RING "$TOP/topologies/ring6-cut.scenario" 2>&1)
ok $? "run topologies/ring6-cut.scenario passes"
echo "$out" | sed 's/^/#   /'
like "$out" "expect reach n1 n2 within 30s +PASS after" "n1 reaches n2 the long way round after the cut"
"$NETSIM" down $RING >/dev/null 2>&1
is "$(settled_leftovers $SIM)$(settled_leftovers $RING)" "" "nothing of either sim remains"

done_testing
