#!/bin/bash
# Radio segments (issue 12) on containers: three nodes a—b—c by distance on one
# medium=radio segment, a and c out of range.  a reaches c only through b, and
# c never sees a frame of a; moving c next to a gives the direct route (the time
# is printed); loss on a→b raises babel's cost and moves the route; a node
# flooding and sending garbage frames does not take the medium down; the mobility
# scenario passes; killing the medium is reported by status, and down leaves
# nothing; a 20-node random geometric topology converges.  Bad topology lines
# are refused with file:line before anything exists.
. "$(dirname "$0")/lib.sh"
need_root
need_meshlite

SIM=r1rad
cleanup_sim $SIM
cleanup_sim r1bad

# Runs CMD until it succeeds or S seconds passed; sets waited (seconds, 0.1 s
# resolution).  wait_for S CMD...
wait_for() {
	local limit=$1; shift
	local start end
	start=$(date +%s.%N)
	end=$(echo "$start + $limit" | bc)
	while :; do
		if "$@" >/dev/null 2>&1; then
			waited=$(echo "scale=1; ($(date +%s.%N) - $start) / 1" | bc)
			return 0
		fi
		[ "$(echo "$(date +%s.%N) > $end" | bc)" = 1 ] && { waited=$limit; return 1; }
		sleep 0.2
	done
}

# The TTL of one echo reply FROM → TO's address (64: direct, 63: one hop between).
ttl() { # ttl FROM ADDR
	"$NETSIM" exec -s $SIM "$1" -- ping -c1 -W1 "$2" 2>/dev/null | sed -n 's/.*ttl=\([0-9]*\).*/\1/p'
}
ttl_is() { [ "$(ttl "$1" "$2")" = "$3" ]; }

# babeld's dump (SIGUSR1 to it, the dump goes to the node's console).
babel_dump() { # babel_dump NODE
	"$NETSIM" exec -s $SIM "$1" -- sh -c 'kill -USR1 $(cat /run/babeld.pid)' >/dev/null 2>&1
	sleep 0.3
}
# The txcost NODE's babeld has for the neighbour whose link-local address is LL.
txcost() { # txcost NODE LL
	babel_dump "$1"
	"$NETSIM" log -s $SIM "$1" 2>/dev/null | grep "^Neighbour $2 " | tail -1 |
		sed -n 's/.* txcost \([0-9]*\).*/\1/p'
}
link_local() { # link_local NODE
	"$NETSIM" exec -s $SIM "$1" -- ip -6 addr show dev eth0 scope link 2>/dev/null |
		sed -n 's/.*inet6 \(fe80::[0-9a-f:]*\)\/64.*/\1/p' | head -1
}

# ---- bad topology lines: file:line, nothing created -------------------------
bad=$(write_topo r1bad.conf <<'EOF'
node a pos=0,0
node b
node w pos=1,1
segment air0 a b medium=radio exponent=0.5
segment wired a w
pair air0 a w loss=1%
pair wired a w cut
pair air0 a>b loss=10%
pair air0 a b rate=1mbit
node c pos=1
EOF
)
fails "$NETSIM" up -n r1bad "$bad" "a topology with bad radio lines is refused"
like "$out" "r1bad.conf:4: exponent=0.5: give a path loss exponent from 1 to 8" "...bad number, with file:line"
like "$out" "r1bad.conf:4: node b is on radio segment air0 but has no pos=" "...radio member without pos="
like "$out" "r1bad.conf:6: node w is not a member of segment air0" "...pair naming a non-member"
like "$out" "r1bad.conf:7: segment wired is a bridge: pairs are for medium=radio segments" "...pair on a wired segment"
like "$out" "r1bad.conf:9: pair a>b on air0 already given at line 8" "...duplicate pair"
like "$out" "r1bad.conf:10: pos=1: give X,Y or X,Y,Z" "...bad pos="
is "$(leftovers r1bad)" "" "...and nothing was created"

# ---- up: the wiring and the medium ------------------------------------------
all_pids=()
out=$("$NETSIM" up -q -n $SIM "$TOP/topologies/radio3.conf" 2>&1)
ok $? "up topologies/radio3.conf as $SIM" || echo "# $out"
all_pids+=($(node_pids $SIM))
medium_pid=$(awk '{print $1}' /run/netsim/$SIM/medium.pid 2>/dev/null)
all_pids+=($medium_pid)
ok $([ -n "$medium_pid" ] && [ -e /proc/$medium_pid ]; echo $?) "the medium process runs (pid $medium_pid)"
is "$(stat -c %a /run/netsim/$SIM/medium.sock 2>&1)" 600 "its control socket is 0600"
out=$("$NETSIM" status $SIM 2>&1)
ok $? "status succeeds"
like "$out" "medium +running +pid $medium_pid" "status shows the medium running"
like "$("$NETSIM" status --json $SIM 2>&1)" "\"medium\":\{\"state\":\"running\",\"pid\":$medium_pid\}" "status --json too"
sw=$SIM.sw
for port in s0-0 s0-1 s0-2; do
	info=$(ip -n $sw -d link show $port 2>&1)
	like "$info" "state UP" "switch side $port is up"
	ok $(printf '%s' "$info" | grep -q master; echo $((! $?))) "...in no bridge"
	is "$(ip netns exec $sw cat /proc/sys/net/ipv6/conf/$port/disable_ipv6 2>&1)" 1 "...IPv6 off"
	is "$(ip -n $sw -6 addr show dev $port 2>&1)" "" "...no IPv6 address"
done
is "$(ip -n $sw link show type bridge 2>&1)" "" "a radio segment has no bridge"
like "$("$NETSIM" exec -s $SIM a -- cat /run/babeld.conf 2>&1)" "interface eth0 type wireless" \
	"meshlite's babeld treats the radio interface as wireless"

json=$("$NETSIM" air -s $SIM air0 --json 2>&1)
ok $? "air --json answers"
like "$json" '"from":"a","to":"c","in_range":false' "a→c is out of range"
like "$json" '"from":"a","to":"b","in_range":true' "a→b is in range"
out=$("$NETSIM" air -s $SIM air0 2>&1)
like "$out" "^a +c +no +330\.0" "air prints the matrix (a c: no, 330 m)"

# ---- a reaches c only through b ---------------------------------------------
wait_for 90 ttl_is a 10.13.0.3 63
ok $? "a reaches c through b (TTL 63) after ${waited} s"
wait_for 30 ttl_is a 10.13.0.2 64
ok $? "a reaches b directly"
mac_a=$("$NETSIM" exec -s $SIM a -- cat /sys/class/net/eth0/address 2>/dev/null)
out=$("$NETSIM" capture -s $SIM c:eth0 --duration 5 -w "$T_TMP/c.pcap" ether src "$mac_a" 2>&1)
like "$out" "^0 packets captured" "a capture on c for 5 s sees no frame from a ($mac_a)"
out=$("$NETSIM" capture -s $SIM c:eth0 --duration 3 -w "$T_TMP/c-all.pcap" 2>&1)
like "$out" "[1-9][0-9]* packets captured" "...while it sees frames (b's hellos)"

# ---- the mobility scenario --------------------------------------------------
out=$("$NETSIM" run -s $SIM "$TOP/topologies/radio3-walk.scenario" 2>&1)
ok $? "topologies/radio3-walk.scenario passes: c walks out of range and back"
printf '%s\n' "$out" | sed 's/^/#   /'

# ---- move c next to a: the direct route -------------------------------------
t0=$(date +%s.%N)
out=$("$NETSIM" node -s $SIM c move 20,0 2>&1)
ok $? "node c move 20,0" || echo "# $out"
like "$("$NETSIM" air -s $SIM air0 --json 2>&1)" '"from":"a","to":"c","in_range":true' "a→c is in range now"
wait_for 120 ttl_is a 10.13.0.3 64
ok $? "babel switched a→c to the direct route"
echo "# move c next to a: direct route after $(echo "scale=1; ($(date +%s.%N) - $t0) / 1" | bc) s"

# ---- loss on a→b: babel's cost rises, the route moves via c -----------------
ll_b=$(link_local b)
base=$(txcost a "$ll_b")
like "$base" "^[0-9]+$" "a's babel has b ($ll_b) as a neighbour, txcost $base"
out=$("$NETSIM" air -s $SIM air0 pair 'a>b' loss=40% 2>&1)
ok $? "air air0 pair a>b loss=40%" || echo "# $out"
like "$("$NETSIM" air -s $SIM air0 --json 2>&1)" '"from":"a","to":"b","in_range":true,[^}]*"loss":0.4[0-9]*,[^}]*"overridden":\["loss"\]' \
	"the matrix shows a→b at 40% loss, overridden"
like "$("$NETSIM" air -s $SIM air0 --json 2>&1)" '"from":"b","to":"a","in_range":true,[^}]*"overridden":\[\]' \
	"...and b→a untouched (one way)"
high() { [ "$(txcost a "$ll_b")" -gt $((base + 100)) ]; }
wait_for 60 high
ok $? "babel's cost for b rose: txcost $base -> $(txcost a "$ll_b") after ${waited} s"
out=$("$NETSIM" air -s $SIM air0 pair 'a>b' loss=80% 2>&1)
ok $? "air air0 pair a>b loss=80%"
wait_for 120 ttl_is a 10.13.0.2 63
ok $? "the route a→b moved to the better path via c (TTL 63) after ${waited} s"
out=$("$NETSIM" air -s $SIM air0 pair a b clear 2>&1)
ok $? "air air0 pair a b clear"
fails "$NETSIM" air -s $SIM air0 pair 'a>b' jitter=1ms "a pair change with jitter= is refused"
fails "$NETSIM" air -s $SIM air0 pair 'a>x' loss=1% "a pair change naming no member is refused"
like "$out" "not a member" "...by the medium, saying why"
fails "$NETSIM" link -s $SIM air0 set loss=1% "link set on a radio segment is refused"
like "$out" "netsim air" "...pointing at netsim air"

# ---- abuse: a node floods and sends garbage; the medium survives ------------
cat >"$T_TMP/abuse.py" <<'EOF'
import os, socket, random, time
random.seed(7)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
mine = open("/sys/class/net/eth0/address").read().strip()
src = bytes.fromhex(mine.replace(":", ""))
bcast = b"\xff" * 6
sent = errors = 0
def send(frame):
    global sent, errors
    try:
        s.send(frame); sent += 1
    except OSError:
        errors += 1
end = time.time() + 3
while time.time() < end:                    # flood: broadcast at full speed
    send(bcast + src + b"\x88\xb5" + os.urandom(1486))
for n in range(20000):                      # garbage of every size and shape
    size = random.choice([14, 15, 17, 59, 60, 61, 64, 1513, 1514, random.randrange(14, 1515)])
    kind = random.randrange(5)
    if kind == 0:
        frame = os.urandom(size)            # random bytes, random MACs
    elif kind == 1:
        frame = bcast + os.urandom(6) + os.urandom(size - 12)   # forged sources
    elif kind == 2:
        frame = os.urandom(6) + src + b"\x81\x00" * ((size - 12) // 2)  # VLAN tags all the way
    elif kind == 3:
        frame = b"\x01\x00\x5e" + os.urandom(3) + src + b"\x86\xdd" + os.urandom(size - 14)
    else:
        frame = bcast + src + b"\x08\x06" + b"\x00" * (size - 14)
    send(frame[:size])
print("sent", sent, "errors", errors)
EOF
if command -v python3 >/dev/null; then
	out=$(timeout 60 ip netns exec ${SIM}_a python3 "$T_TMP/abuse.py" 2>&1)
	ok $? "a floods for 3 s and sends 20000 garbage frames ($out)"
	ok $([ -e /proc/$medium_pid ] && ! grep -q '^State:.*Z' /proc/$medium_pid/status; echo $?) \
		"the medium process survived"
	"$NETSIM" status $SIM >/dev/null 2>&1
	ok $? "status is healthy"
	like "$("$NETSIM" air -s $SIM air0 --json 2>&1)" '"from":"a","to":"c"' "the medium still answers"
	wait_for 60 ttl_is a 10.13.0.3 64
	ok $? "a still reaches c after the abuse"
else
	ok 0 "# SKIP no python3 on the host for the abuse frames"
fi

# ---- the web view's data ------------------------------------------------------
"$NETSIM" web -s $SIM -p 0 >"$T_TMP/web.out" 2>&1 &
web_pid=$!
for _ in $(seq 50); do grep -q '^netsim web: http' "$T_TMP/web.out" && break; sleep 0.1; done
port=$(sed -n 's|^netsim web: http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$T_TMP/web.out")
air_json=$(exec 3<>/dev/tcp/127.0.0.1/$port &&
	printf 'GET /api/air HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$port" >&3 && timeout 5 cat <&3)
like "$air_json" '"positions":\{"a":\[0(\.0)?,0(\.0)?,0(\.0)?\]' "web /api/air has the positions"
like "$air_json" '"range_m":31[0-9]' "...and the nominal range (about 316 m)"
kill -TERM $web_pid; wait $web_pid 2>/dev/null

# ---- the medium dies: status says so, down leaves nothing -------------------
kill -KILL "$medium_pid"
wait_for 5 sh -c "! test -e /proc/$medium_pid"
fails "$NETSIM" status $SIM "status fails when the medium is dead"
like "$out" "medium +DEAD" "status shows the medium DEAD"
like "$out" "its medium process is not running" "...and says so on stderr"
fails "$NETSIM" status --json $SIM "status --json fails too"
like "$out" '"medium":\{"state":"dead"' "...with medium state dead"
fails "$NETSIM" air -s $SIM air0 "air fails without a medium"
like "$out" "medium process is not running" "...saying why"
"$NETSIM" down $SIM >/dev/null 2>&1
ok $? "down"
is "$(settled_leftovers $SIM "${all_pids[@]}")" "" "down left nothing (netns, state dir, mounts, processes, cgroups)"

# ---- down stops a live medium too -------------------------------------------
"$NETSIM" up -q -n $SIM "$TOP/topologies/radio3.conf" >/dev/null 2>&1
ok $? "up again"
pids=($(node_pids $SIM) $(awk '{print $1}' /run/netsim/$SIM/medium.pid 2>/dev/null))
"$NETSIM" down $SIM >/dev/null 2>&1
ok $? "down with the medium running"
is "$(settled_leftovers $SIM "${pids[@]}")" "" "...stops it and leaves nothing"

# ---- a 20-node random geometric topology converges --------------------------
"$NETSIM" gen geo 20 --seed 5 --sim r1geo >"$T_TMP/geo20.conf"
cleanup_sim r1geo
"$NETSIM" up -q "$T_TMP/geo20.conf" >/dev/null 2>&1
ok $? "up a 20-node random geometric topology (gen geo 20 --seed 5)"
pids=($(node_pids r1geo) $(awk '{print $1}' /run/netsim/r1geo/medium.pid 2>/dev/null))
out=$("$NETSIM" converge -s r1geo --timeout 180 2>&1)
ok $? "it converges: $out"
is "$(ps -o comm= -p "${pids[-1]}" 2>&1)" netsim-medium "the medium is called netsim-medium in ps"
"$NETSIM" down r1geo >/dev/null 2>&1
ok $? "down r1geo"
is "$(settled_leftovers r1geo "${pids[@]}")" "" "...leaves nothing"

done_testing
