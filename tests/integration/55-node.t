#!/bin/bash
# netsim node stop|start|restart: one node goes away and comes back while the rest
# of the sim runs; its overlay changes survive (unless --reset), babel heals the
# mesh, and `down` still removes every incarnation.
. "$(dirname "$0")/lib.sh"
need_root
need_meshlite

SIM=tnode
cleanup_sim $SIM
all_pids=()

"$NETSIM" up -q -n $SIM "$TOP/topologies/3node.conf" >/dev/null 2>&1
ok $? "up topologies/3node.conf as $SIM"
all_pids+=($(node_pids $SIM))
"$NETSIM" reach -q -s $SIM --timeout 60 >/dev/null 2>&1
ok $? "reach: converged before the node commands"

pid_of() { awk '{print $1}' /run/netsim/$SIM/nodes/$1/pid 2>/dev/null; }

"$NETSIM" exec -s $SIM n2 -- sh -c 'echo kept > /root/mark'
ok $? "write /root/mark inside n2"

# ---- restart: new PID 1, same overlay, mesh heals ---------------------------
old=$(pid_of n2)
out=$("$NETSIM" node -s $SIM n2 restart 2>&1)
ok $? "node n2 restart"
like "$out" "stopped pid $old \(SIGTERM\)" "restart stopped the old PID 1 with SIGTERM"
new=$(pid_of n2)
all_pids+=($new)
ok $([ -n "$new" ] && [ "$new" != "$old" ]; echo $?) "n2 has a new PID 1 ($old -> $new)"
ok $([ ! -e /proc/$old ] || grep -q '^State:.*Z' /proc/$old/status; echo $?) "the old PID 1 is gone"
is "$("$NETSIM" exec -s $SIM n2 -- cat /root/mark 2>&1)" kept "n2's file survived the restart"
is "$("$NETSIM" exec -s $SIM n2 -- hostname 2>&1)" n2 "hostname is n2 again"
like "$("$NETSIM" exec -s $SIM n2 -- sh -c 'tr "\0" "\n" </proc/1/environ' 2>&1)" \
	"NETSIM_ADDR=10.13.0.2/32" "init has its environment again"
st=$(awk '$1 == "node" && $2 == "n2" {print $3}' /run/netsim/$SIM/state)
is "$st" "$new" "the state file records the new pid"
t0=$SECONDS
out=$("$NETSIM" reach -s $SIM --timeout 60 2>&1)
ok $? "reach succeeds again within 60 s after the restart ($((SECONDS - t0)) s)"
like "$out" "6/6 pairs" "...all 6 pairs"

# ---- stop: namespace and links stay, nothing runs, the path through n2 is cut ----
out=$("$NETSIM" node -s $SIM n2 stop --timeout 10 2>&1)
ok $? "node n2 stop"
ok $([ ! -e /proc/$new ] || grep -q '^State:.*Z' /proc/$new/status; echo $?) "n2's PID 1 is gone"
ok $([ ! -e /run/netsim/$SIM/nodes/n2/pid ]; echo $?) "n2's pid file is removed"
like "$("$NETSIM" status $SIM 2>&1)" "n2 +stopped" "status shows n2 stopped"
like "$("$NETSIM" status --json $SIM 2>&1)" '"name":"n2","state":"stopped"' "status --json too"
like "$("$NETSIM" status $SIM 2>&1)" "n1:eth0 -- n2:eth0 +up" "n2's links survive the stop"
ok $(ip netns list | grep -q "^${SIM}_n2\b"; echo $?) "n2's network namespace survives"
out=$("$NETSIM" exec -s $SIM n2 -- true 2>&1)
rc=$?
ok $([ $rc -ne 0 ]; echo $?) "exec into a stopped node fails"
like "$out" "^netsim: .*n2 is not running" "...with a clear error ($out)"
fails "$NETSIM" exec -s $SIM n1 -- ping -c 3 -W 1 10.13.0.3 "n1 cannot reach n3 (n2 was the only path)"
fails "$NETSIM" reach -q -s $SIM --timeout 3 "reach fails while n2 is stopped"
out=$("$NETSIM" node -s $SIM n2 stop 2>&1)
ok $? "stopping a stopped node is fine"
like "$out" "was not running" "...and says so"

# ---- start: same overlay, mesh heals ----------------------------------------
out=$("$NETSIM" node -s $SIM n2 start --json 2>&1)
ok $? "node n2 start"
like "$out" '^\{"sim":"tnode","node":"n2","state":"running".*"pid":[1-9]' "start --json"
started=$(pid_of n2)
all_pids+=($started)
is "$("$NETSIM" exec -s $SIM n2 -- cat /root/mark 2>&1)" kept "n2's file survived stop + start"
fails "$NETSIM" node -s $SIM n2 start "starting a running node is refused"
like "$out" "^netsim: node n2 is already running \(pid $started\)" "...with a clear error"
t0=$SECONDS
"$NETSIM" reach -q -s $SIM --timeout 60 >/dev/null 2>&1
ok $? "reach heals within 60 s after start ($((SECONDS - t0)) s)"

# ---- restart --reset: a fresh overlay ---------------------------------------
out=$("$NETSIM" node -s $SIM n2 restart --reset 2>&1)
ok $? "node n2 restart --reset"
all_pids+=($(pid_of n2))
fails "$NETSIM" exec -s $SIM n2 -- test -e /root/mark "--reset: /root/mark is gone"
is "$("$NETSIM" exec -s $SIM n2 -- hostname 2>&1)" n2 "--reset: the node runs (hostname n2)"

# ---- errors -------------------------------------------------------------------
out=$("$NETSIM" node -s $SIM n9 restart 2>&1)
ok $([ $? -eq 1 ]; echo $?) "unknown node fails"
like "$out" "^netsim: sim $SIM has no node n9$" "...with a clear error"
out=$("$NETSIM" node -s tnode-nosuch n1 stop 2>&1)
ok $([ $? -eq 1 ]; echo $?) "unknown sim fails"
like "$out" "^netsim: sim tnode-nosuch is not up$" "...with a clear error"
ok $([ ! -e /run/netsim/tnode-nosuch ]; echo $?) "...and leaves no state dir behind"
out=$("$NETSIM" node -s $SIM n1 reboot 2>&1)
ok $([ $? -eq 2 ]; echo $?) "unknown action is a usage error"
like "$out" "unknown action 'reboot'" "...naming it"
out=$("$NETSIM" node -s $SIM n1 stop --reset 2>&1)
ok $([ $? -eq 2 ]; echo $?) "stop --reset is a usage error"
lock_out=$(flock -n /run/netsim/$SIM/lock "$NETSIM" node -s $SIM n1 restart 2>&1)
like "$lock_out" "being changed by another netsim process" "a held sim lock refuses node commands"

# ---- down removes every incarnation -----------------------------------------
all_pids+=($(node_pids $SIM))
out=$("$NETSIM" node -s $SIM n3 stop 2>&1)
ok $? "stop n3 too (down must handle a stopped node)"
out=$("$NETSIM" down $SIM 2>&1)
ok $? "down"
sleep 0.5
left=$(leftovers $SIM "${all_pids[@]}")
is "$left" "" "nothing remains (netns, state, mounts, the pids of all ${#all_pids[@]} incarnations)"

# ---- an init that ignores SIGTERM is killed after the grace time ---------------
# A pid namespace's init receives SIGTERM from the host only when it handles it;
# sleep does not.
SIM2=tnkill
cleanup_sim $SIM2
topo=$(write_topo deaf.conf <<EOF
sim $SIM2
node deaf rootfs=meshlite init="/bin/sleep 100000"
EOF
)
"$NETSIM" up -q "$topo" >/dev/null 2>&1
ok $? "up a node whose init ignores SIGTERM"
deaf_pids=($(node_pids $SIM2))
t0=$(date +%s%N)
out=$("$NETSIM" node -s $SIM2 deaf stop --timeout 0.5 2>&1)
ok $? "node deaf stop --timeout 0.5"
took_ms=$((($(date +%s%N) - t0) / 1000000))
like "$out" "SIGKILL after the grace time" "...needed SIGKILL ($out)"
ok $([ $took_ms -ge 500 ]; echo $?) "...after the grace time (${took_ms} ms)"
like "$("$NETSIM" status $SIM2 2>&1)" "deaf +stopped" "status shows it stopped"
"$NETSIM" node -s $SIM2 deaf start >/dev/null 2>&1
ok $? "start it again"
deaf_pids+=($(node_pids $SIM2))
like "$("$NETSIM" status $SIM2 2>&1)" "deaf +running" "status shows it running"
"$NETSIM" down $SIM2 >/dev/null 2>&1
ok $? "down $SIM2"
sleep 0.5
is "$(leftovers $SIM2 "${deaf_pids[@]}")" "" "nothing of $SIM2 remains"

done_testing
