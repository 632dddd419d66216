#!/bin/bash
# Link quality and live links (docs/links.md): rate= is a real tbf limit in both
# directions, `netsim link ... down` cuts a link and `up` heals it (babel learns it
# again), netem attributes fail cleanly where the kernel lacks sch_netem, and bad
# usage is refused with a clear message.
. "$(dirname "$0")/lib.sh"
need_root
need_meshlite

skip() { T_NUM=$((T_NUM + 1)); echo "ok $T_NUM # SKIP $*"; }

# Does this kernel have netem?  Asked the same way netsim asks: a netem qdisc on lo
# in a scratch network namespace.
if unshare -n tc qdisc add dev lo root netem delay 1ms 2>/dev/null; then HAVE_NETEM=1; else HAVE_NETEM=0; fi

SIM=tl1
cleanup_sim $SIM
f=$(write_topo tl1.conf <<'TOPO'
sim tl1
node a
node b
node c
link a b rate=4mbit
link b c
link b c
segment air0 b c
TOPO
)
out=$("$NETSIM" up "$f" 2>&1)
ok $? "up a topology with rate=4mbit"
pids=$(node_pids $SIM)
qa=$(ip netns exec ${SIM}_a tc qdisc show dev eth0 2>&1)
qb=$(ip netns exec ${SIM}_b tc qdisc show dev eth0 2>&1)
like "$qa" "tbf 1: root .*rate 4Mbit" "tbf on a's end of the link"
like "$qb" "tbf 1: root .*rate 4Mbit" "tbf on b's end too (both directions)"
like "$(ip netns exec ${SIM}_b tc qdisc show dev eth1 2>&1)" "noqueue" "the unshaped link has no qdisc"
like "$("$NETSIM" status $SIM 2>&1)" "a:eth0 -- b:eth0 +up +rate=4mbit" "status shows the link's state and quality"
like "$("$NETSIM" status --json $SIM 2>&1)" '"a":"a:eth0","b":"b:eth0","state":"up","quality":\{"rate":"4mbit"\}' \
	"status --json shows the quality"

"$NETSIM" reach -s $SIM --timeout 60 >/dev/null 2>&1
ok $? "all nodes reach each other"

# transfer BYTES: iperf3 from a to b (10.13.0.2), one server per run, killed by pid.
# Prints "BITS_PER_SECOND WALL_SECONDS" as measured at the receiver / by us.
transfer() {
	ip netns exec ${SIM}_b timeout 30 iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	local server=$!
	for _ in $(seq 1 50); do
		ip netns exec ${SIM}_b ss -ltn 2>/dev/null | grep -q ':5201 ' && break
		sleep 0.1
	done
	local start end json
	start=$(date +%s.%N)
	json=$(ip netns exec ${SIM}_a timeout 30 iperf3 -c 10.13.0.2 -p 5201 -n "$1" -J 2>/dev/null)
	end=$(date +%s.%N)
	kill "$server" 2>/dev/null
	wait "$server" 2>/dev/null
	echo "$json" | perl -0777 -ne 'print "$1 " if /"sum_received":\s*\{[^}]*?"bits_per_second":\s*([0-9.e+]+)/s'
	perl -e 'printf "%.2f\n", $ARGV[1] - $ARGV[0]' "$start" "$end"
}
within() { # within VALUE LOW HIGH
	perl -e 'exit !($ARGV[0] >= $ARGV[1] && $ARGV[0] <= $ARGV[2])' "$@"
}

if ! command -v iperf3 >/dev/null; then
	skip "iperf3 not installed: cannot time transfers"
	skip "iperf3 not installed"
	skip "iperf3 not installed"
else
	# 2 MiB at 4 mbit is 4.2 s; a shaper that works lands well inside 0.5x-2x.
	read -r bps secs < <(transfer 2M)
	echo "# 2 MiB a->b at rate=4mbit: $bps bit/s at the receiver, $secs s"
	within "${bps:-0}" 2000000 8000000
	ok $? "a->b goes at about 4 mbit/s ($bps bit/s)"
	within "${secs:-0}" 2.1 8.4
	ok $? "2 MiB takes about 4 s ($secs s)"

	out=$("$NETSIM" link -s $SIM a b set rate=16mbit 2>&1)
	like "$out" "a:eth0 -- b:eth0: rate=16mbit" "set rate=16mbit at run time"
	read -r bps secs < <(transfer 4M)
	echo "# 4 MiB a->b at rate=16mbit: $bps bit/s, $secs s"
	within "${bps:-0}" 8000000 32000000
	ok $? "now at about 16 mbit/s ($bps bit/s)"
fi

out=$("$NETSIM" link -s $SIM a b clear 2>&1)
like "$out" "a:eth0 -- b:eth0: no shaping" "clear removes the shaping"
like "$(ip netns exec ${SIM}_a tc qdisc show dev eth0 2>&1)" "noqueue" "...from the kernel too"
out=$("$NETSIM" link -s $SIM b a set rate=4mbit 2>&1)
like "$out" "rate=4mbit" "the link can be named in either order"
like "$(ip netns exec ${SIM}_b tc qdisc show dev eth0 2>&1)" "rate 4Mbit" "...and both ends are shaped again"

# --- down cuts the link, up heals it and babel learns it again ---------------
out=$("$NETSIM" link -s $SIM a b down 2>&1)
ok $? "link a b down"
like "$(ip netns exec ${SIM}_b ip link show eth0 2>&1)" "state DOWN" "b's end is down"
like "$("$NETSIM" status $SIM 2>&1)" "a:eth0 -- b:eth0 +down +rate=4mbit" "status shows the link down"
fails "$NETSIM" reach -s $SIM --timeout 4 "a (whose only link is down) no longer reaches the others"
out=$("$NETSIM" link -s $SIM a b up 2>&1)
ok $? "link a b up"
start=$(date +%s)
"$NETSIM" reach -s $SIM --timeout 60 >/dev/null 2>&1
ok $? "after up, babel learns the link again and all reach all ($(($(date +%s) - start)) s)"
like "$(ip netns exec ${SIM}_a tc qdisc show dev eth0 2>&1)" "rate 4Mbit" "the quality survives down/up"

# --- parallel links and segments ---------------------------------------------
fails "$NETSIM" link -s $SIM b c down "b c is ambiguous (parallel links)"
like "$out" "2 parallel links .*b:eth1 c:eth0.*b:eth2 c:eth1.*NODE:IF NODE:IF" "...and the error lists them"
out=$("$NETSIM" link -s $SIM b:eth2 c:eth1 set rate=2mbit 2>&1)
like "$out" "b:eth2 -- c:eth1: rate=2mbit" "NODE:IF NODE:IF picks one of them"
out=$("$NETSIM" link -s $SIM air0 set rate=8mbit 2>&1)
like "$out" "segment air0: rate=8mbit" "set on a whole segment"
like "$(ip netns exec ${SIM}_c tc qdisc show dev eth2 2>&1)" "rate 8Mbit" "...shapes each member's end"
out=$("$NETSIM" link -s $SIM air0 c down 2>&1)
like "$out" "segment air0 member c:eth2: down" "one member of a segment down"
like "$("$NETSIM" status $SIM 2>&1)" "segment air0 +rate=8mbit b:eth3\(up\) c:eth2\(down\)" "status shows that member down"
"$NETSIM" link -s $SIM air0 c up >/dev/null 2>&1
like "$("$NETSIM" link -s $SIM air0 2>&1)" "segment air0: up  rate=8mbit" "...and up again"

# --- netem attributes where the kernel has no sch_netem -----------------------
before_tc=$(ip netns exec ${SIM}_a tc qdisc show dev eth0 2>&1)
before_show=$("$NETSIM" link -s $SIM a b 2>&1)
out=$("$NETSIM" link -s $SIM a b set delay=10ms 2>&1)
status=$?
if [ $HAVE_NETEM = 1 ]; then
	ok $status "set delay=10ms (this kernel has netem)"
	like "$(ip netns exec ${SIM}_a tc qdisc show dev eth0 2>&1)" "netem 1: root.*delay 10ms" "netem is the root qdisc"
	like "$(ip netns exec ${SIM}_a tc qdisc show dev eth0 2>&1)" "tbf 2: parent 1:1 .*rate 4Mbit" "tbf below it"
else
	ok $([ $status -ne 0 ]; echo $?) "set delay=10ms fails: no sch_netem here"
	like "$out" "delay=10ms needs the kernel module sch_netem" "the error names the missing module"
	like "$out" "kernel-level mode \(netsim up --vm\)" "...and points at kernel-level mode"
	is "$(ip netns exec ${SIM}_a tc qdisc show dev eth0 2>&1)" "$before_tc" "the link's qdiscs are unchanged"
	is "$("$NETSIM" link -s $SIM a b 2>&1)" "$before_show" "the link's recorded quality is unchanged"
fi

SIM2=tl2
cleanup_sim $SIM2
f2=$(write_topo tl2.conf <<'TOPO'
sim tl2
node a
node b
node c
link a b rate=1mbit
link b c delay=20ms loss=1%
TOPO
)
out=$("$NETSIM" up "$f2" 2>&1)
status=$?
if [ $HAVE_NETEM = 1 ]; then
	ok $status "up with delay= and loss= (this kernel has netem)"
	skip "kernel has netem: no error to check"
	skip "kernel has netem: no error to check"
	"$NETSIM" down $SIM2 >/dev/null 2>&1
else
	ok $([ $status -ne 0 ]; echo $?) "up with delay=/loss= fails: no sch_netem here"
	like "$out" "tl2.conf:6: link b c: delay=20ms loss=1% need the kernel module sch_netem" \
		"the error names file:line, the attributes and the module"
	like "$out" "kernel-level mode \(netsim up --vm\)" "...and points at kernel-level mode"
fi
is "$(leftovers $SIM2)" "" "nothing of $SIM2 is left behind"

# --- bad usage -----------------------------------------------------------------
fails "$NETSIM" link -s $SIM a c down "a c: not linked"
like "$out" "^netsim: link: a and c are not linked in sim $SIM" "...says so"
out=$("$NETSIM" link -s $SIM a x down 2>&1)
like "$out" "sim $SIM has no node x" "unknown node"
out=$("$NETSIM" link -s $SIM air9 down 2>&1)
like "$out" "sim $SIM has no segment air9" "unknown segment"
fails "$NETSIM" link -s $SIM a b set rate=4xbit "bad unit is refused"
like "$out" "rate=4xbit: expected a rate such as" "...with the topology parser's message"
out=$("$NETSIM" link -s $SIM a b set colour=red 2>&1)
like "$out" "unknown link attribute .colour." "unknown attribute"
out=$("$NETSIM" link -s $SIM a b set rate=100gbit 2>&1)
like "$out" "rate=100gbit is out of range" "rate beyond tbf's range"
out=$("$NETSIM" link -s $SIM a b clear colour 2>&1)
like "$out" "clear: unknown attribute .colour." "clear of an unknown attribute"
out=$("$NETSIM" link -s $SIM a b sideways 2>&1)
is "$?" 2 "an unknown action is a usage error (exit 2)"
out=$("$NETSIM" link -s $SIM air0 c set rate=1mbit 2>&1)
like "$out" "quality belongs to the whole segment" "quality of one segment member is refused"
like "$(ip netns exec ${SIM}_a tc qdisc show dev eth0 2>&1)" "rate 4Mbit" "failed commands changed nothing"

out=$("$NETSIM" down $SIM 2>&1)
ok $? "down"
sleep 0.3
is "$(leftovers $SIM $pids)" "" "nothing of the sim remains (including its links/ state)"

done_testing
