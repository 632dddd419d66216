#!/bin/bash
# The fidelity watchdog: status, converge and their JSON say whether the host
# keeps up, and they say "degraded" when the sim's own nodes saturate the CPUs.
. "$(dirname "$0")/lib.sh"
need_root
need_meshlite

SIM=tfid
cleanup_sim $SIM
"$NETSIM" up -q -n $SIM "$TOP/topologies/3node.conf" >/dev/null 2>&1
ok $? "up 3node as $SIM"
pids=$(node_pids $SIM)

out=$("$NETSIM" converge -s $SIM --timeout 60 2>&1)
ok $? "converge"
like "$(echo "$out" | tail -1)" "^fidelity: (ok|degraded: .+)$" "converge ends with a fidelity line"

out=$("$NETSIM" status $SIM 2>&1)
like "$out" $'\nfidelity: (ok|degraded: .+)' "status has a fidelity line"

json=$("$NETSIM" status --json $SIM 2>&1)
ok $? "status --json"
check=$(python3 -c '
import json, sys
o = json.loads(sys.argv[1])
f = o["fidelity"]
assert f["status"] in ("ok", "degraded"), f
assert f["window_ms"] == 200, f
assert f["procs"] >= 3, f            # at least the three inits were sampled
assert f["cpu_pressure_of"] == "sim" or f["cpu_pressure_of"] == "host", f
assert isinstance(f["neigh_overflows"], int)
n = o["neigh"]
fams = [t["family"] for t in n]
assert "IPv6" in fams, n
for t in n:
    assert t["limit"] >= t["entries"] >= 0 and t["overflows_since_up"] >= 0, t
print("ok")' "$json" 2>&1)
is "$check" ok "status --json: a fidelity object and the neighbour tables"
json=$("$NETSIM" converge -s $SIM --json 2>&1)
like "$json" '"fidelity":\{"status":"(ok|degraded)"' "converge --json carries it too"

# Saturate the two CPUs from inside the sim: four busy loops in n1.
for i in 1 2 3 4; do
	"$NETSIM" exec -s $SIM n1 -- sh -c 'while :; do :; done' >/dev/null 2>&1 &
	disown # (down ends them; no "Killed" report from this shell)
done
degraded=""
for i in $(seq 1 40); do
	line=$("$NETSIM" status $SIM 2>&1 | grep '^fidelity:')
	case $line in *degraded*) degraded=$line; break ;; esac
	sleep 0.5
done
like "$degraded" "^fidelity: degraded: .*(CPU pressure [0-9]+%|timers [0-9.]+ m?s late)" \
	"busy nodes: status says degraded ($degraded)"

"$NETSIM" down $SIM >/dev/null 2>&1
ok $? "down (ends the busy loops with the sim)"
is "$(settled_leftovers $SIM $pids)" "" "nothing of the sim remains"
done_testing
