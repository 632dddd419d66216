#!/bin/bash
# netsim forward: a node's TCP service on the host's 127.0.0.1 (and nowhere else),
# in the foreground and in the background; errors; `down` stops every relay.
. "$(dirname "$0")/lib.sh"
need_root
need_meshlite
command -v curl >/dev/null || skip_all "curl not installed"
command -v ss >/dev/null || skip_all "ss (iproute2) not installed"

SIM=tf1
cleanup_sim $SIM
fg_pids=()
trap 'for p in "${fg_pids[@]}"; do kill "$p" 2>/dev/null; done; t_cleanup' EXIT

topo=$(write_topo $SIM.conf <<'EOF'
node n1
node n2
link n1 n2
EOF
)
"$NETSIM" up -q -n $SIM "$topo" >/dev/null 2>&1
ok $? "up a 2-node sim"
node_pids=$(node_pids $SIM)

"$NETSIM" exec -s $SIM n1 -- sh -c \
	'mkdir -p /www; echo hello-from-n1 > /www/index.html; httpd -p 80 -h /www' 2>&1
ok $? "busybox httpd on n1:80"
"$NETSIM" exec -s $SIM n1 -- sh -c 'nc -ll -p 7 -e cat >/dev/null 2>&1 </dev/null &'
ok $? "an echo server (nc -e cat) on n1:7"

# The port from "forward: 127.0.0.1:PORT -> ..."
port_of() { sed -n 's/^forward: 127\.0\.0\.1:\([0-9]*\) -> .*/\1/p' <<<"$1"; }
pid_of() { sed -n 's/.*(pid \([0-9]*\))$/\1/p' <<<"$1"; }

# ---- errors -------------------------------------------------------------------
out=$("$NETSIM" forward -s $SIM n1 80 2>&1)
is $? 2 "a spec without ':' is a usage error"
like "$out" "bad port spec '80': want HOSTPORT:NODEPORT" "...that names the form"
out=$("$NETSIM" forward -s $SIM n1 0:70000 2>&1)
is $? 2 "NODEPORT 70000 is a usage error"
out=$("$NETSIM" forward -s $SIM nx 0:80 2>&1)
is $? 1 "an unknown node fails"
like "$out" "^netsim: forward: sim $SIM has no node nx$" "...saying so"
out=$("$NETSIM" forward -s tfnosuch n1 0:80 2>&1)
is $? 1 "an unknown sim fails"
like "$out" "^netsim: sim tfnosuch is not up" "...saying so"

# ---- background -----------------------------------------------------------------
out=$("$NETSIM" forward -s $SIM --background n1 0:80 2>&1)
ok $? "forward --background n1 0:80"
like "$out" "^forward: 127\.0\.0\.1:[0-9]+ -> $SIM/n1:80 \(pid [0-9]+\)$" "...prints the port ($out)"
port=$(port_of "$out")
bg_pid=$(pid_of "$out")
ok $([ -n "$port" ] && [ -n "$bg_pid" ] && [ -e /proc/$bg_pid ]; echo $?) "the relay runs as pid $bg_pid"
record=$(cat /run/netsim/$SIM/forwards/$port 2>/dev/null)
like "$record" "^$bg_pid [0-9]+$" "recorded in /run/netsim/$SIM/forwards/$port as 'PID STARTTIME'"
is "$(curl -s -m 10 "http://127.0.0.1:$port/")" hello-from-n1 "curl http://127.0.0.1:$port/ reaches n1's httpd"

listeners=$(ss -Hltn "sport = :$port" | awk '{print $4}' | sort -u)
is "$listeners" "127.0.0.1:$port" "ss: the only listener on port $port is 127.0.0.1"

out=$("$NETSIM" forward -s $SIM n2 "$port:80" 2>&1)
is $? 1 "a second forward on the same host port fails"
like "$out" "^netsim: forward: 127\.0\.0\.1:$port is already in use$" "...before detaching ($out)"

# Many at once: 40 parallel clients.
for i in $(seq 40); do curl -s -m 20 "http://127.0.0.1:$port/" >"$T_TMP/par.$i" & done
wait
is "$(cat "$T_TMP"/par.* | sort | uniq -c | awk '{print $1, $2}')" "40 hello-from-n1" \
	"40 parallel clients all get the page"

# A 20 MB file comes through unchanged.
"$NETSIM" exec -s $SIM n1 -- sh -c 'head -c 20000000 /dev/urandom > /www/big; md5sum /www/big' \
	>"$T_TMP/big.sum"
want=$(awk '{print $1}' "$T_TMP/big.sum")
t0=$(date +%s.%N)
got=$(curl -s -m 60 "http://127.0.0.1:$port/big" | md5sum | awk '{print $1}')
t1=$(date +%s.%N)
is "$got" "$want" "20 MB through the relay unchanged ($(awk -v a=$t0 -v b=$t1 'BEGIN{printf "%.2f s", b-a}'))"

# Half-close: the client sends, shuts its write side, and still reads the echo.
out=$("$NETSIM" forward -s $SIM --background n1 0:7 2>&1)
ok $? "forward --background n1 0:7 (echo)"
echo_port=$(port_of "$out")
echo_pid=$(pid_of "$out")
got=$(perl -MIO::Socket::INET -e '
	my $s = IO::Socket::INET->new("127.0.0.1:'"$echo_port"'") or die "connect: $!";
	print $s "abc" x 50000; $s->shutdown(1);
	local $/; my $d = <$s>; print length($d), " ", substr($d, 0, 6), "\n";' 2>&1)
is "$got" "150000 abcabc" "half-close: 150000 bytes echoed after the client's shutdown(SHUT_WR)"

# ---- foreground: refused node port, SIGTERM -----------------------------------------
"$NETSIM" forward -s $SIM n1 0:81 >"$T_TMP/fg.out" 2>"$T_TMP/fg.err" &
fg=$!
fg_pids+=($fg)
for _ in $(seq 50); do [ -s "$T_TMP/fg.out" ] && break; sleep 0.1; done
fg_port=$(port_of "$(cat "$T_TMP/fg.out")")
ok $([ -n "$fg_port" ]; echo $?) "foreground forward n1 0:81 prints its port ($fg_port)"
curl -s -m 10 "http://127.0.0.1:$fg_port/" >/dev/null 2>&1
rc=$?
ok $([ $rc = 52 ] || [ $rc = 56 ]; echo $?) \
	"nothing on n1:81: the client's connection is closed at once (curl exit $rc, 52 = empty reply)"
sleep 0.2
like "$(cat "$T_TMP/fg.err")" "^netsim: forward $SIM/n1: connect 127\.0\.0\.1:81 in the node: Connection refused$" \
	"...and one line on stderr"
is "$(wc -l <"$T_TMP/fg.err")" 1 "...exactly one"
is "$(curl -s -m 10 "http://127.0.0.1:$port/")" hello-from-n1 "the other forward is unaffected"
kill -TERM $fg
wait $fg
is $? 0 "SIGTERM stops the foreground forward with status 0"
ok $(lacks . ss -Hltn "sport = :$fg_port"; echo $?) "...and its port is closed"

# A foreground forward is not recorded; it ends by itself when the node's netns goes.
"$NETSIM" forward -s $SIM n2 0:80 >"$T_TMP/fg2.out" 2>"$T_TMP/fg2.err" &
fg2=$!
fg_pids+=($fg2)
for _ in $(seq 50); do [ -s "$T_TMP/fg2.out" ] && break; sleep 0.1; done
ok $([ -s "$T_TMP/fg2.out" ]; echo $?) "a foreground forward to n2 runs"

# ---- down -------------------------------------------------------------------------
"$NETSIM" down $SIM >/dev/null 2>&1
ok $? "down $SIM"
gone() { [ ! -e /proc/$1 ] || grep -q '^State:.*Z' /proc/$1/status 2>/dev/null; }
ok $(gone $bg_pid && gone $echo_pid; echo $?) "down stopped both background relays"
ok $(lacks . ss -Hltn "sport = :$port" && lacks . ss -Hltn "sport = :$echo_port"; echo $?) \
	"...their ports are closed"
for _ in $(seq 50); do gone $fg2 && break; sleep 0.1; done
ok $(gone $fg2; echo $?) "the foreground forward ended when n2's netns went away"
wait $fg2
rc=$?
is $rc 1 "...with status 1"
like "$(cat "$T_TMP/fg2.err")" "network namespace is gone" "...saying why"
is "$(leftovers $SIM $node_pids $bg_pid $echo_pid $fg2)" "" "nothing left behind"

done_testing
