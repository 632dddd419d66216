#!/bin/bash
# Kathara labs run as imported (docs/import.md): two labs written for this test
# in Kathara's format (tests/data/kathara-static: base devices with startup
# scripts and static routes; tests/data/kathara-ospf: FRR devices with their own
# /etc/frr) are imported next to their lab.conf, brought up, and their own
# pings and traceroutes succeed from inside the nodes (`netsim exec`); `reach
# --addrs` and `converge --addrs` probe the labs' own addresses; `down` leaves
# nothing.  The OSPF part needs the frr rootfs (make rootfs-frr).
. "$(dirname "$0")/lib.sh"
need_root
need_meshlite
ROOTFS_DIR=${NETSIM_ROOTFS_DIR:-${NETSIM_BUILD:-$TOP/build}/rootfs}
tar -xzOf "$ROOTFS_DIR/meshlite.tar.gz" sbin/init 2>/dev/null | grep -q NETSIM_STARTUP ||
	skip_all "the meshlite rootfs in $ROOTFS_DIR predates startup= (make rootfs)"

# exec_ok NODE DESCRIPTION -- CMD...: CMD succeeds inside NODE of $SIM
exec_ok() {
	local node=$1 what=$2
	shift 3
	local out
	out=$("$NETSIM" exec -s "$SIM" "$node" -- "$@" 2>&1)
	ok $? "$what"
	[ $? -eq 0 ] || echo "$out" | sed 's/^/# /'
}

# wait_startup NODE...: until each node's init says its startup script ended
# (it runs at boot, after `up` returned), at most 30 s
wait_startup() {
	local node i
	for node in "$@"; do
		for i in $(seq 1 300); do
			"$NETSIM" log -s "$SIM" "$node" 2>/dev/null | grep -q "startup exited with status" && break
			sleep 0.1
		done
	done
}

# ---- static routing on base devices ------------------------------------------
cp -r "$TOP/tests/data/kathara-static" "$T_TMP/static"
"$NETSIM" import -o "$T_TMP/static/netsim.conf" kathara "$T_TMP/static" 2>"$T_TMP/static.err"
ok $? "import the static lab, saved next to its lab.conf"
topo=$(grep -v '^#' "$T_TMP/static/netsim.conf")
like "$topo" "node pc1 files=pc1 startup=pc1.startup" "pc1: its directory and startup script, relative"
like "$topo" "segment STUB r1:eth2" "r1's one-device collision domain is a one-member segment"
is "$(grep -c 'not translated' "$T_TMP/static.err")" 0 "nothing untranslated (ipv6=True is equivalent)"

SIM=k1ks
cleanup_sim $SIM
# from elsewhere: the paths resolve from the topology file, not from here
out=$(cd / && "$NETSIM" up -n $SIM "$T_TMP/static/netsim.conf" 2>&1)
ok $? "up the static lab from another directory"
[ $? -eq 0 ] || echo "$out" | sed 's/^/# /'
# right after up: the startup scripts are still adding the addresses
out=$("$NETSIM" converge -s $SIM --addrs all --timeout 30 2>&1)
like "$out" "every node reaches every address \(10 pairs\)" \
	"converge --addrs all right after up waits for the startup scripts' addresses"
wait_startup pc1 r1 pc2
like "$("$NETSIM" log -s $SIM r1 2>&1)" "/run/netsim/startup exited with status 0" \
	"r1 ran its startup script at boot"
is "$("$NETSIM" exec -s $SIM pc1 -- cat /etc/lab-motd 2>&1)" "pc1 of the static lab" \
	"pc1/ is laid over the rootfs"
exec_ok pc1 "pc1 pings pc2 across r1 (the lab's static routes)" -- ping -c 2 -W 2 10.1.2.10
exec_ok pc2 "pc2 pings r1's stub LAN address" -- ping -c 1 -W 2 10.1.3.1
out=$("$NETSIM" exec -s $SIM pc1 -- traceroute -n -w 2 -q 1 10.1.2.10 2>&1)
like "$out" "1 +10\.1\.1\.1 " "pc1's traceroute: first hop r1"
like "$out" "2 +10\.1\.2\.10 " "...then pc2"
out=$("$NETSIM" reach -s $SIM --addrs all --timeout 20 2>&1)
ok $? "reach --addrs all: every node reaches every lab address"
like "$out" "10/10 pairs" "...10 pairs (5 addresses, none probed by its owner)"
out=$("$NETSIM" reach -s $SIM --addrs 10.1.2.10,10.1.3.1 -q 2>&1)
like "$out" "4/4 pairs" "reach --addrs with a list"
printf '# pc2 and r1\n10.1.2.10\n10.1.3.1 # stub\n' >"$T_TMP/addrs"
out=$("$NETSIM" reach -s $SIM --addrs "$T_TMP/addrs" -q 2>&1)
like "$out" "4/4 pairs" "reach --addrs with a file"
fails "$NETSIM" reach -s $SIM --addrs 192.0.2.99 "an address on no node is refused"
out=$("$NETSIM" converge -s $SIM --addrs 10.1.3.1,10.1.1.10 --timeout 20 2>&1)
like "$out" "every node reaches every address \(4 pairs\)" "converge --addrs with a list"
"$NETSIM" node -s $SIM r1 restart >/dev/null 2>&1
ok $? "restart r1"
# the first boot's log lines are still there: wait for the addresses instead
for i in $(seq 1 100); do
	"$NETSIM" exec -s $SIM r1 -- ip -4 addr show eth1 2>/dev/null | grep -q 10.1.2.1/ && break
	sleep 0.1
done
exec_ok pc1 "after the restart r1's startup script ran again: pc1 reaches pc2" -- \
	ping -c 2 -W 2 10.1.2.10
pids=$(node_pids $SIM)
"$NETSIM" down $SIM >/dev/null 2>&1
ok $? "down the static lab"
is "$(settled_leftovers $SIM $pids)" "" "nothing left behind"

# a startup= script is copied into the node: host files stay out, as for files=
cleanup_sim k1kx
topo=$(write_topo leak.conf <<EOF
node x startup=/etc/passwd
EOF
)
out=$("$NETSIM" up -n k1kx "$topo" 2>&1)
is $? 1 "startup=/etc/passwd is refused"
like "$out" "is inside the host's /etc" "...because a node must not see the host's files"

# ---- what is not translated: shared/, shared.startup, DEVICE.shutdown -----------
cp -r "$TOP/tests/data/kathara-shared" "$T_TMP/shared"
"$NETSIM" import -o "$T_TMP/shared/netsim.conf" kathara "$T_TMP/shared" 2>"$T_TMP/shared.err"
ok $? "import a lab with shared/, shared.startup and a shutdown script"
err=$(cat "$T_TMP/shared.err")
like "$err" "shared: not translated: Kathara lab directory \(Kathara's /shared .*DEVICE/shared/" \
	"shared/ is named, with what to do instead ($err)"
like "$err" "shared.startup: not translated: .*add its lines to each DEVICE.startup" \
	"shared.startup is named, with what to do instead"
like "$err" "a.shutdown: not translated: shutdown script of device a \(\`netsim down\` stops" \
	"a.shutdown is named: down does not run it"
SIM=k1kh
cleanup_sim $SIM
out=$("$NETSIM" up -n $SIM "$T_TMP/shared/netsim.conf" 2>&1)
ok $? "up the two-device lab"
[ $? -eq 0 ] || echo "$out" | sed 's/^/# /'
out=$("$NETSIM" converge -s $SIM --addrs 10.5.0.2 --timeout 30 2>&1)
like "$out" "every node reaches every address \(1 pair\)" "converge: one pair is '1 pair' ($out)"
out=$("$NETSIM" reach -s $SIM --addrs 10.5.0.2 -q --timeout 10 2>&1)
like "$out" "reach $SIM: 1/1 pair in " "reach: '1/1 pair' ($out)"
"$NETSIM" link -s $SIM a b down >/dev/null 2>&1
out=$("$NETSIM" converge -s $SIM --addrs 10.5.0.2 --timeout 1 2>&1)
ok $([ $? -eq 1 ]; echo $?) "converge across a link that is down times out"
like "$out" "not converged after .*: 1 of 1 pair missing( \(no path in the routing tables\))?: a->b" "...'1 of 1 pair missing' ($out)"
"$NETSIM" link -s $SIM a b up >/dev/null 2>&1
is "$("$NETSIM" exec -s $SIM a -- sh -c 'test -e /shared && echo there || echo absent' 2>&1)" \
	"absent" "no /shared in the node: the host's shared/ stays out"
pids=$(node_pids $SIM)
start=$(date +%s%N)
"$NETSIM" down $SIM >/dev/null 2>&1
ok $? "down the lab whose a.shutdown never ends"
ms=$((($(date +%s%N) - start) / 1000000))
ok $([ $ms -lt 5000 ]; echo $?) "...promptly: ${ms} ms (the script is not run, so it cannot hold down)"
is "$(settled_leftovers $SIM $pids)" "" "nothing left behind"

# ---- OSPF on FRR devices -----------------------------------------------------
if [ ! -f "$ROOTFS_DIR/frr.tar.gz" ]; then
	echo "ok $((T_NUM + 1)) # skip OSPF lab: no frr rootfs in $ROOTFS_DIR (make rootfs-frr)"
	T_NUM=$((T_NUM + 1))
	done_testing
	exit
fi
cp -r "$TOP/tests/data/kathara-ospf" "$T_TMP/ospf"
mkdir "$T_TMP/out"
"$NETSIM" import -o "$T_TMP/out/ospf.conf" kathara "$T_TMP/ospf" 2>/dev/null
ok $? "import the OSPF lab into another directory"
topo=$(grep -v '^#' "$T_TMP/out/ospf.conf")
like "$topo" "node r1 rootfs=frr caps=\+sys_admin files=../ospf/r1 startup=../ospf/r1.startup" \
	"kathara/frr: the frr rootfs with CAP_SYS_ADMIN, paths from the output's directory"
SIM=k1ko
cleanup_sim $SIM
out=$("$NETSIM" up -n $SIM "$T_TMP/out/ospf.conf" 2>&1)
ok $? "up the OSPF lab"
[ $? -eq 0 ] || echo "$out" | sed 's/^/# /'
out=$("$NETSIM" converge -s $SIM --addrs all --timeout 90 2>&1)
ok $? "converge --addrs all: OSPF carries every lab address"
echo "$out" | sed 's/^/# /'
wait_startup r1 r2 r3
for d in ospfd zebra watchfrr; do
	like "$("$NETSIM" exec -s $SIM r2 -- ps 2>&1)" "/usr/lib/frr/$d" "r2: $d runs (started unmodified)"
done
like "$("$NETSIM" exec -s $SIM r2 -- vtysh -c 'show ip ospf neighbor' 2>&1)" "1\.1\.1\.1 .*Full" \
	"vtysh: r2 has r1 as a full neighbour"
like "$("$NETSIM" exec -s $SIM r1 -- ip route 2>&1)" "192\.168\.3\.0/24 .*proto ospf" \
	"r1 learnt r3's stub LAN from OSPF"
exec_ok r1 "r1 pings r3's stub LAN address" -- ping -c 2 -W 2 192.168.3.1
out=$("$NETSIM" exec -s $SIM r1 -- traceroute -n -w 2 -q 1 192.168.3.1 2>&1)
like "$out" "1 +10\.0\.12\.2 " "r1's traceroute: first hop r2"
like "$out" "2 +192\.168\.3\.1 " "...then r3's stub LAN"
out=$("$NETSIM" reach -s $SIM --addrs all -q --timeout 20 2>&1)
like "$out" "12/12 pairs" "reach --addrs all: 12/12"
pids=$(node_pids $SIM)
"$NETSIM" down $SIM >/dev/null 2>&1
ok $? "down the OSPF lab"
is "$(settled_leftovers $SIM $pids)" "" "nothing left behind"
done_testing
