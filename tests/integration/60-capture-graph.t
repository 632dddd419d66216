#!/bin/bash
# netsim capture, graph and gen: a capture inside a node sees the pings that
# cross it and writes a pcap tcpdump reads; graph draws files and running sims
# (with live state) as DOT that Graphviz accepts; a generated ring comes up and
# routes; the generated files in topologies/ are exactly what their first line
# says.
. "$(dirname "$0")/lib.sh"
need_root
need_meshlite
command -v tcpdump >/dev/null || skip_all "tcpdump not installed (Debian package tcpdump)"

SIM=tvcg
cleanup_sim $SIM
CAPTURE_PIDS=()
# Captures still running when the test fails are ended too (before the sims go).
trap 'for p in "${CAPTURE_PIDS[@]}"; do kill "$p" 2>/dev/null; done; t_cleanup' EXIT

# start_capture LOGFILE ARGS... : run a capture in the background (its pid in
# CAPTURE_PID) and wait until it is listening (it says so on stderr).
start_capture() {
	local log=$1; shift
	"$NETSIM" capture "$@" 2>"$log" &
	CAPTURE_PID=$!
	CAPTURE_PIDS+=("$CAPTURE_PID")
	for _ in $(seq 100); do
		grep -q "capturing on" "$log" && return 0
		kill -0 "$CAPTURE_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# wait_capture SECONDS: the capture's exit status, or 124 after killing it.
wait_capture() {
	for _ in $(seq $(($1 * 10))); do
		kill -0 "$CAPTURE_PID" 2>/dev/null || { wait "$CAPTURE_PID"; return; }
		sleep 0.1
	done
	kill "$CAPTURE_PID" 2>/dev/null
	wait "$CAPTURE_PID"
	return 124
}

magic() { od -An -tx1 -N4 "$1" | tr -d ' '; }

topo=$(write_topo tvcg.conf <<EOF
sim $SIM
node a
node b
node c
link a b
link b c
EOF
)
out=$("$NETSIM" up "$topo" 2>&1)
ok $? "up a - b - c"
pids=$(node_pids $SIM)
"$NETSIM" reach -s $SIM --timeout 60 >/dev/null 2>&1
ok $? "a reaches c through b"

# --- capture into a file ------------------------------------------------------
pcap=$T_TMP/b.pcap
start_capture "$T_TMP/cap1.log" -s $SIM b:eth0 -c 10 -w "$pcap" icmp
ok $? "capture on b:eth0 started"
"$NETSIM" exec -s $SIM a -- ping -c 5 -i 0.2 10.13.0.3 >/dev/null 2>&1
ok $? "a pings c (through b) 5 times"
wait_capture 20
is $? 0 "capture stops by itself after -c 10 packets"
like "$(cat "$T_TMP/cap1.log")" "^10 packets captured$" "...and says how many it captured"
is "$(magic "$pcap")" d4c3b2a1 "the file starts with the pcap magic"
dump=$(tcpdump -nr "$pcap" 2>/dev/null)
is "$(grep -c '10.13.0.1 > 10.13.0.3: ICMP echo request' <<<"$dump")" 5 "5 echo requests a -> c in the pcap"
is "$(grep -c '10.13.0.3 > 10.13.0.1: ICMP echo reply' <<<"$dump")" 5 "5 echo replies c -> a in the pcap"
like "$(tcpdump -nr "$pcap" 2>&1 >/dev/null)" "link-type EN10MB" "one interface: Ethernet frames"

# --- streaming to stdout ------------------------------------------------------
start_capture "$T_TMP/cap2.log" -s $SIM a:eth0 -c 4 icmp >"$T_TMP/stream.pcap"
ok $? "capture to stdout (no -w, stdout not a terminal) started"
"$NETSIM" exec -s $SIM a -- ping -c 2 -i 0.2 10.13.0.2 >/dev/null 2>&1
wait_capture 20
is $? 0 "streaming capture stops after -c 4"
is "$(magic "$T_TMP/stream.pcap")" d4c3b2a1 "stdout got pcap"
is "$(tcpdump -nr "$T_TMP/stream.pcap" 2>/dev/null | grep -c ICMP)" 4 "4 ICMP packets on stdout"

# `any`: every interface of b, so a routed packet shows up on the way in and out
start_capture "$T_TMP/cap3.log" -s $SIM b -w "$T_TMP/any.pcap" --duration 30 icmp
ok $? "capture on b (any interface) started"
"$NETSIM" exec -s $SIM a -- ping -c 2 -i 0.2 10.13.0.3 >/dev/null 2>&1
sleep 0.3
kill -TERM "$CAPTURE_PID"
wait_capture 10
is $? 0 "SIGTERM ends the capture cleanly (exit 0)"
like "$(cat "$T_TMP/cap3.log")" "^8 packets captured$" "2 pings through b: 8 packets on b's interfaces"
like "$(tcpdump -nr "$T_TMP/any.pcap" 2>&1 >/dev/null)" "LINUX_SLL" "any: Linux cooked headers"
is "$(tcpdump -nr "$T_TMP/any.pcap" 2>/dev/null | wc -l)" 8 "the file closed after SIGTERM holds all 8"

start=$(date +%s)
"$NETSIM" capture -s $SIM c --duration 1 -w "$T_TMP/dur.pcap" 2>/dev/null
is $? 0 "--duration 1 ends by itself"
ok $([ $(($(date +%s) - start)) -le 10 ]; echo $?) "...within a few seconds"
is "$(magic "$T_TMP/dur.pcap")" d4c3b2a1 "...with a valid pcap"

fails "$NETSIM" capture -s $SIM zz -w "$T_TMP/x.pcap" "capture on an unknown node fails"
like "$out" "sim $SIM has no node zz" "...naming the node"
fails "$NETSIM" capture -s $SIM a:eth9 -w "$T_TMP/x.pcap" "capture on an unknown interface fails"
like "$out" "a:eth9: no interface eth9 there \(its links: eth0" "...naming it and the node's links"
fails "$NETSIM" capture -s $SIM a -w "$T_TMP/x.pcap" 'not a (filter' "a bad filter expression fails"

# --- graph --------------------------------------------------------------------
have_dot=0
command -v dot >/dev/null && have_dot=1
dotfile=$("$NETSIM" graph "$topo" 2>&1)
ok $? "graph FILE"
like "$dotfile" '"a" -- "b" \[label="", taillabel="eth0", headlabel="eth0"\]' "DOT has the link a - b with its interfaces"
ok $(grep -q fillcolor <<<"$dotfile"; [ $? -ne 0 ]; echo $?) "a file has no live state"

ip -n ${SIM}_b link set eth1 down
live=$("$NETSIM" graph $SIM 2>&1)
ok $? "graph SIM (running)"
like "$live" 'label="sim tvcg \(running\)"' "titled as running"
like "$live" '"a" \[label="a\\n10.13.0.1/32", style=filled, fillcolor="#2f9e62", fontcolor="white"\]' "running node a is green"
like "$live" '"b" -- "c" \[label="\(down\)".*style=dashed' "the link b - c, down at b, is dashed"
ok $(lacks dashed grep '"a" -- "b"' <<<"$live"; echo $?) "the link a - b is not"
ip -n ${SIM}_b link set eth1 up

if [ $have_dot = 1 ]; then
	printf '%s\n' "$dotfile" | dot -Tsvg -o "$T_TMP/file.svg"
	ok $? "dot -Tsvg accepts the graph of the file"
	printf '%s\n' "$live" | dot -Tsvg -o "$T_TMP/live.svg"
	ok $? "dot -Tsvg accepts the graph of the running sim"
	"$NETSIM" graph $SIM -o "$T_TMP/out.svg"
	ok $? "graph -o out.svg"
	like "$(head -c 400 "$T_TMP/out.svg")" "<svg" "...writes SVG"
else
	for i in 1 2 3 4; do echo "ok $((T_NUM += 1)) # SKIP graphviz's dot not installed"; done
fi
"$NETSIM" graph $SIM -o "$T_TMP/out.dot"
ok $? "graph -o out.dot"
is "$(head -c 18 "$T_TMP/out.dot")" "// netsim graph of" "...writes DOT"
segtopo=$(write_topo seg.conf <<EOF
node x
node y
node z
segment air0 x y z loss=5% delay=2ms
link x y rate=54mbit
EOF
)
seg=$("$NETSIM" graph "$segtopo" 2>&1)
like "$seg" '"segment:air0" \[shape=box, label="segment air0\\ndelay=2ms loss=5%"\]' "a segment is a box with its quality"
like "$seg" '"segment:air0" -- "z"' "...with an edge to each member"
like "$seg" '"x" -- "y" \[label="rate=54mbit"' "a link is labelled with its quality"
if [ $have_dot = 1 ]; then
	printf '%s\n' "$seg" | dot -Tsvg -o /dev/null
	ok $? "dot accepts the segment graph"
fi

# a node whose PID 1 is gone shows as stopped
cpid=$(awk '{print $1}' /run/netsim/$SIM/nodes/c/pid)
kill -KILL "$cpid"
for _ in $(seq 50); do [ -e /proc/$cpid ] || break; sleep 0.1; done
like "$("$NETSIM" graph $SIM 2>&1)" '"c" \[label="c\\n10.13.0.3/32\\n\(stopped\)", style=filled, fillcolor="#9aa5b1", fontcolor="white"\]' \
	"graph shows the killed node c as stopped"

"$NETSIM" down $SIM >/dev/null 2>&1
sleep 0.5
is "$(leftovers $SIM $pids "${CAPTURE_PIDS[@]}")" "" "nothing of $SIM remains (nor any capture)"

# --- gen ----------------------------------------------------------------------
RING=tvring
cleanup_sim $RING
"$NETSIM" gen ring 4 --sim $RING >"$T_TMP/ring.conf"
ok $? "gen ring 4"
out=$("$NETSIM" up "$T_TMP/ring.conf" 2>&1)
ok $? "the generated ring comes up"
like "$out" "sim $RING up: 4 nodes, 4 links" "...with 4 nodes and 4 links"
rpids=$(node_pids $RING)
out=$("$NETSIM" reach -s $RING --timeout 60 2>&1)
ok $? "every node of the ring reaches every other"
like "$out" "12/12 pairs" "...12/12 pairs"
"$NETSIM" down $RING >/dev/null 2>&1
sleep 0.5
is "$(leftovers $RING $rpids)" "" "nothing of $RING remains"

# The files in topologies/ are what the command on their first line prints.
for f in line10 ring6 grid3x3; do
	file=$TOP/topologies/$f.conf
	cmd=$(head -1 "$file" | sed -n 's/^# netsim gen //p')
	# shellcheck disable=SC2086  # the command's words
	regen=$("$NETSIM" gen $cmd 2>&1)
	is "$regen" "$(cat "$file")" "topologies/$f.conf is exactly \`netsim gen $cmd\`"
	"$NETSIM" graph "$file" >/dev/null 2>&1
	ok $? "topologies/$f.conf parses"
done

done_testing
