#!/bin/bash
# The medium engine (netsim/medium/engine.c) on hand-made namespaces, without
# `netsim up`: delivery, range, seeded loss run after run, moves, the control
# protocol and hostile input, the privileges it keeps, clean exit.
. "$(dirname "$0")/lib.sh"
need_root
. "$TOP/tests/integration/medium-lib.sh"
[ -x "$MEDIUM_DRIVER" ] || skip_all "no $MEDIUM_DRIVER (make)"
MEDIUM_PREFIX=m1t$$
MEDIUM_PREFIX=${MEDIUM_PREFIX:0:9}
trap 'medium_cleanup; t_cleanup' EXIT

topo=$(write_topo air.conf <<'X'
node a pos=0,0
node b pos=80,0
node c pos=400,0
segment air0 a b c medium=radio seed=7
X
)
medium_ns sw && medium_ns a && medium_ns b && medium_ns c &&
	medium_member 0 0 a 192.168.77.1 && medium_member 0 1 b 192.168.77.2 &&
	medium_member 0 2 c 192.168.77.3
ok $? "namespaces and veth pairs"
medium_start "$topo"
ok $(kill -0 "$MEDIUM_PID" 2>/dev/null; echo $?) "the engine runs"

st=/proc/$MEDIUM_PID/status
like "$(grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' "$st" | tr -s '\n\t ' '   ')" \
	'CapEff: 0+ CapBnd: 0+ NoNewPrivs: 1 Seccomp: 2' "no capabilities, no_new_privs, seccomp"

inns() { local n=$1; shift; ip netns exec "$MEDIUM_PREFIX-$n" "$@"; }
inns a ping -c 3 -i 0.05 -W 2 192.168.77.2 >/dev/null
ok $? "a reaches b (80 m)"
fails inns a ping -c 2 -i 0.2 -W 1 192.168.77.3 "a does not reach c (400 m, out of range)"

# c sees no frame of a's at all
recv_count() { # recv_count NODE COUNT [SIZE]: a sends COUNT broadcasts, NODE counts them
	local node=$1 count=$2 out=$T_TMP/recv.$node
	inns "$node" "$MEDIUM_DRIVER" recv eth0 700 >"$out" &
	local pid=$!
	for _ in $(seq 40); do grep -q ready "$out" 2>/dev/null && break; sleep 0.05; done
	inns a "$MEDIUM_DRIVER" send eth0 "$count" "${3:-60}" 200
	wait $pid
	tail -1 "$out"
}
is "$(recv_count c 200)" 0 "a capture on c sees none of a's 200 broadcasts"
is "$(recv_count b 200)" 200 "b gets all 200"

# the seeded loss, twice from a fresh engine: the same frames are lost.  a sends
# nothing else meanwhile (no ARP: a kernel frame would shift the frame numbers)
inns a ip link set eth0 arp off
inns a ip neigh flush dev eth0
medium_stop
ok $? "SIGTERM: the engine exits 0"
medium_start "$topo"
is "$(medium_ctl pair air0 a b loss=30%)" ok "pair air0 a b loss=30% (live)"
n1=$(recv_count b 2000)
# binomial(2000, 0.7): sd 20.5; 4 sd
ok $(( n1 > 1318 && n1 < 1482 ? 0 : 1 )) "30% loss: b got $n1 of 2000 (1400 +- 82)"
m=$(medium_ctl matrix)
perl -MJSON::PP -e '
	my $j = decode_json(do { local $/; <STDIN> });
	my ($p) = grep { $_->{from} eq "a" && $_->{to} eq "b" } @{$j->{segments}[0]{pairs}};
	exit !($p && abs($p->{loss} - 0.3) < 1e-9 && $p->{lost} > 0 &&
	       $p->{offered} == $p->{delivered} + $p->{lost} + $p->{collided} + $p->{queue_dropped} &&
	       grep { $_ eq "loss" } @{$p->{overridden}});' <<<"$m"
ok $? "matrix: a->b loss 0.3, overridden [loss], offered = delivered + lost + collided + queue_dropped"
ab_counts() { # "offered lost" of a->b from the matrix
	medium_ctl matrix | perl -MJSON::PP -e '
		my $j = decode_json(do { local $/; <STDIN> });
		my ($p) = grep { $_->{from} eq "a" && $_->{to} eq "b" } @{$j->{segments}[0]{pairs}};
		print "$p->{offered} $p->{lost}"'
}
c1=$(ab_counts)
medium_stop
medium_start "$topo"
medium_ctl pair air0 a b loss=30% >/dev/null
n2=$(recv_count b 2000)
c2=$(ab_counts)
# the medium's own decision; what b's socket counted may differ by a frame the
# kernel dropped after the medium
is "$c2" "$c1" "same seed, a new run: the same frames offered and lost (offered lost: $c2)"
ok $(( n2 - n1 <= 2 && n1 - n2 <= 2 ? 0 : 1 )) "  b received $n2 (first run $n1)"

inns a ip link set eth0 arp on
is "$(medium_ctl move c 10 0 0)" ok "move c next to a"
inns a ping -c 3 -i 0.05 -W 2 192.168.77.3 >/dev/null
ok $? "now a reaches c"
is "$(medium_ctl pair air0 a c cut)" ok "pair air0 a c cut"
fails inns a ping -c 2 -i 0.2 -W 1 192.168.77.3 "cut: a no longer reaches c"
is "$(medium_ctl pair air0 a c clear)" ok "pair air0 a c clear"
inns a ping -c 3 -i 0.05 -W 2 192.168.77.3 >/dev/null
ok $? "cleared: a reaches c again"
is "$(medium_ctl move c 400 0 0 300)" ok "move c away over 300 ms"
sleep 0.6
like "$(medium_ctl matrix)" '"c":\[400\.0,0\.0,0\.0\]' "after the timed move c is at 400,0,0"

out=$("$MEDIUM_DRIVER" abuse "$MEDIUM_SOCK")
ok $? "control protocol abuse: every check passes"
echo "$out" | grep -v '^ok' | sed 's/^/# /'

# hostile frames from a's root: runts, bad sources, a MAC flood, 64 KiB frames
inns a ip link set eth0 mtu 65535 2>/dev/null || inns a ip link set eth0 mtu 9000
inns a "$MEDIUM_DRIVER" hostile eth0 >/dev/null
ok $(kill -0 "$MEDIUM_PID" 2>/dev/null; echo $?) "the engine survives hostile frames"
inns a ip link set eth0 mtu 1500
inns b ping -c 3 -i 0.05 -W 2 192.168.77.1 >/dev/null
ok $? "and still carries b -> a"

medium_stop
ok $? "SIGTERM again: exit 0"
medium_cleanup
left=$(ip netns list | grep -c "^$MEDIUM_PREFIX-")
is "$left" 0 "nothing left behind"
done_testing
