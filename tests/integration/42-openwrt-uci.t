#!/bin/bash
# config=uci: OpenWrt 18.06 and 21.02 nodes take the topology's addresses,
# hostnames and routes to their neighbours from /etc/config files netsim lays
# under their overlay, instead of every node's default 192.168.1.1 on br-lan.
. "$(dirname "$0")/lib.sh"
need_root
FX=$TOP/../shared/fixtures
O18=$FX/openwrt-18.06.4-x86-64-generic-rootfs.tar.gz
O21=$FX/openwrt-21.02-snapshot-r16847-x86_64-assembled-rootfs.tar.gz
[ -f "$O18" ] && [ -f "$O21" ] || skip_all "OpenWrt fixtures not found in $FX"

SIM=tuci
cleanup_sim $SIM
topo=$(write_topo uci.conf <<EOF
sim $SIM
defaults config=uci
node o1 rootfs=$O21
node o2 rootfs=$O18
node o3 rootfs=$O21 addr=10.13.77.3
link o1 o2
link o2 o3
EOF
)
bad=$(write_topo bad.conf <<EOF
sim tucibad
node o1 rootfs=$O21 config=uci
node o2 rootfs=$O21 config=openwrt
link o1:e\$th o2
EOF
)
fails "$NETSIM" up "$bad" "a bad config= and an interface name uci cannot hold are refused"
like "$out" "bad.conf:3: config=openwrt: want uci" "... config= at its line"
like "$out" "bad.conf:4: node o1 has config=uci: interface name" "... the interface at its line"
is "$(leftovers tucibad)" "" "... and nothing was created"

out=$("$NETSIM" up "$topo" 2>&1)
ok $? "up: three OpenWrt nodes with config=uci"
pids=$(node_pids $SIM)

# netifd brings the interfaces up a few seconds after procd starts
wait_for() { # wait_for NODE CMD...: until CMD succeeds in NODE (15 s)
	local node=$1 i
	shift
	for i in $(seq 1 30); do
		"$NETSIM" exec -s $SIM "$node" -- "$@" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	return 1
}
wait_for o1 sh -c 'ip -4 addr show dev eth0 | grep -q 10.13.0.1/32'
ok $? "o1 (21.02): netifd put the node's address on eth0"
wait_for o2 sh -c 'ip -4 addr show dev lo | grep -q 10.13.0.2/32'
ok $? "o2 (18.06): the node's address on lo"
wait_for o2 sh -c 'ip -4 route | grep -q "^10.13.77.3 dev eth1"'
ok $? "o2 (18.06): a device route to o3's own addr= over eth1"
is "$("$NETSIM" exec -s $SIM o3 -- uci get system.@system[0].hostname 2>&1)" o3 \
	"o3: the hostname from the topology"
"$NETSIM" exec -s $SIM o1 -- sh -c 'ip -4 addr | grep -q 192.168.1.1'
ok $(($? == 0)) "o1: no image default 192.168.1.1 anywhere"
wait_for o1 ping -c 1 -W 1 10.13.0.2
ok $? "o1 pings o2 (IPv4, one hop, no routing daemon)"
wait_for o3 ping6 -c 1 -W 1 fd13::2
ok $? "o3 pings o2 (IPv6)"

# the layer is the node's lower, read-only: a change in the node goes to its overlay
"$NETSIM" exec -s $SIM o1 -- sh -c 'uci set system.@system[0].hostname=evil && uci commit system'
ok $? "node root changes its own config"
grep -q "hostname 'o1'" "/run/netsim/$SIM/nodes/o1/uci/etc/config/system"
ok $? "... the layer on the host is unchanged"
"$NETSIM" node -s $SIM o1 restart >/dev/null 2>&1
ok $? "node o1 restart"
wait_for o1 sh -c 'uci get system.@system[0].hostname | grep -q evil'
ok $? "... keeps the node's own change (its overlay is kept)"
wait_for o1 sh -c 'ip -4 addr show dev eth0 | grep -q 10.13.0.1/32'
ok $? "... and its addresses come back"

"$NETSIM" down $SIM >/dev/null 2>&1
ok $? "down"
is "$(settled_leftovers $SIM $pids)" "" "nothing of the sim remains"
done_testing
