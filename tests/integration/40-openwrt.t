#!/bin/bash
# A real OpenWrt rootfs as a node: procd is PID 1, ubus answers, and it pings the
# meshlite node it is wired to.
. "$(dirname "$0")/lib.sh"
need_root
need_meshlite
FIXTURE=$TOP/../shared/fixtures/openwrt-18.06.4-x86-64-generic-rootfs.tar.gz
[ -f "$FIXTURE" ] || skip_all "OpenWrt fixture not found at $FIXTURE"

SIM=towrt
cleanup_sim $SIM
out=$("$NETSIM" up -n $SIM "$TOP/tests/data/openwrt.conf" 2>&1)
ok $? "up: meshlite m1 -- OpenWrt o1"
pids=$(node_pids $SIM)

board=""
for i in $(seq 1 30); do
	board=$("$NETSIM" exec -s $SIM o1 -- ubus call system board 2>&1) && break
	sleep 0.5
done
like "$board" '"distribution": "OpenWrt"' "ubus call system board answers"
# (OpenWrt's /sbin/init runs preinit, then execs procd as the same PID 1)
comm=$("$NETSIM" exec -s $SIM o1 -- cat /proc/1/comm 2>&1)
is "$comm" procd "procd is PID 1 in the OpenWrt node"


"$NETSIM" exec -s $SIM m1 -- ip addr add 10.13.200.1/24 dev eth0
ok $? "give m1 an address on its link to o1"
pinged=1
for i in $(seq 1 30); do
	if "$NETSIM" exec -s $SIM o1 -- ping -c 1 -W 1 10.13.200.1 >/dev/null 2>&1; then
		pinged=0
		break
	fi
	sleep 0.5
done
ok $pinged "o1 (OpenWrt, netifd-configured eth0) pings m1 (meshlite)"

"$NETSIM" down $SIM >/dev/null 2>&1
ok $? "down"
sleep 0.5
is "$(leftovers $SIM $pids)" "" "nothing of the sim remains"
done_testing
