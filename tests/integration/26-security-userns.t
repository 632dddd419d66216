#!/bin/bash
# docs/security.md "A user namespace per node": node root is an unprivileged
# range of host ids, its namespaces are owned by its own user namespace, so its
# CAP_NET_ADMIN stops at its own netns.  From inside n1 (as node root) every
# rtnetlink request that names another netns by netns id is tried, plus
# /proc/PID/ns/net; all must be refused and the mesh must still route.  (Against
# a runtime without user namespaces eight of the requests succeed.)
. "$(dirname "$0")/lib.sh"
need_root
need_meshlite
ATTACK=${NETSIM_BUILD:-$TOP/build}/tests/userns-netlink
[ -x "$ATTACK" ] || skip_all "$ATTACK not built (make)"

SIM=su26
cleanup_sim $SIM
mkdir -p "$T_TMP/files/etc"
echo lowered >"$T_TMP/files/etc/su-marker"
topo=$(write_topo line4.conf <<EOF
sim $SIM
defaults rootfs=meshlite
node n1
node n2
node n3
node n4 files=$T_TMP/files
link n1 n2
link n2 n3
link n3 n4
EOF
)
out=$("$NETSIM" up "$topo" 2>&1)
ok $? "up a 4-node line"
ok $(echo "$out" | grep -q "without a user namespace"; [ $? -ne 0 ]; echo $?) \
	"no fallback notice on this kernel ($(uname -r))"
out=$("$NETSIM" reach -s $SIM --timeout 60 2>&1)
like "$out" "12/12 pairs" "every node reaches every node"

# ---- node root is a mapped, per-node range of host ids ----------------------
bases=""
for n in n1 n2 n3 n4; do
	pid=$(awk '{print $1}' /run/netsim/$SIM/nodes/$n/pid)
	read -r base count </run/netsim/$SIM/nodes/$n/ids
	uid=$(awk '/^Uid:/{print $2}' /proc/$pid/status)
	is "$uid" "$base" "$n: host uid of PID 1 is the recorded base $base"
	ok $([ "$base" -ge $((0x70000000)) ] && [ "$count" = 65536 ]; echo $?) \
		"$n: range $base+$count is above the /etc/subuid ranges"
	is "$(awk '{print $1, $2, $3}' /proc/$pid/uid_map)" "0 $base 65536" "$n: uid_map maps 0..65535"
	ok $([ "$(readlink /proc/$pid/ns/user)" != "$(readlink /proc/self/ns/user)" ]; echo $?) \
		"$n: runs in its own user namespace"
	bases="$bases $base"
done
is "$(echo $bases | tr ' ' '\n' | sort -u | wc -l)" 4 "four nodes, four distinct ranges"
is "$("$NETSIM" exec -s $SIM n1 -- id -u 2>&1)" 0 "exec: the command is root inside"
like "$("$NETSIM" exec -s $SIM n1 -- cat /proc/self/uid_map 2>&1)" "^ *0 +[0-9]+ +65536" \
	"exec joins the node's user namespace"

# ---- ownership through idmapped lower layers --------------------------------
is "$("$NETSIM" exec -s $SIM n1 -- stat -c %u:%g /bin/busybox 2>&1)" 0:0 \
	"rootfs files appear owned by node root"
is "$("$NETSIM" exec -s $SIM n4 -- sh -c 'stat -c %u /etc/su-marker; cat /etc/su-marker' 2>&1 | tr '\n' ' ')" \
	"0 lowered " "files= layer appears owned by node root"
"$NETSIM" exec -s $SIM n1 -- sh -c 'echo made > /root/su-made'
ok $? "node root writes into its overlay"
read -r base1 _ </run/netsim/$SIM/nodes/n1/ids
is "$(stat -c %u:%g /run/netsim/$SIM/nodes/n1/upper/root/su-made 2>&1)" "$base1:$base1" \
	"the upper dir file is owned by the mapped uid on the host"

# ---- host files stay out of reach, even through an fd path -------------------
echo secret >"$T_TMP/host-ro"
chmod 0644 "$T_TMP/host-ro"
fails "$NETSIM" exec -s $SIM n1 -- sh -c 'echo pwned > /proc/self/fd/0' "node root cannot reopen a host root file for writing via /proc/self/fd" <"$T_TMP/host-ro"
is "$(cat "$T_TMP/host-ro")" secret "the host file is unchanged"
chmod 0600 "$T_TMP/host-ro"
out=$("$NETSIM" exec -s $SIM n1 -- sh -c 'cat /proc/self/fd/0' <"$T_TMP/host-ro" 2>&1)
ok $(echo "$out" | grep -q secret; [ $? -ne 0 ]; echo $?) \
	"node root cannot reopen a 0600 host root file via /proc/self/fd"
fails "$NETSIM" exec -s $SIM n1 -- mount -t tmpfs none /mnt "mount from inside still fails (no CAP_SYS_ADMIN kept)"

# ---- every cross-namespace netlink request fails ------------------------------
attack() { # attack NODE: copy the helper in, run it against eth0's peer netns
	"$NETSIM" exec -s $SIM "$1" -- sh -c 'cat > /tmp/su-atk && chmod 755 /tmp/su-atk' <"$ATTACK" &&
		"$NETSIM" exec -s $SIM "$1" -- /tmp/su-atk eth0 2>&1
}
out=$(attack n1)
ok $? "n1: the kernel allowed none of the cross-netns requests"
echo "$out" | sed 's/^/# /'
for what in getlink-peer-by-netnsid veth-peer-into-netnsid veth-with-link-netnsid \
	veth-created-in-netnsid delete-peer-by-netnsid delete-eth0-by-netnsid \
	move-own-into-netnsid move-renamed-own-into-netnsid getaddr-dump-by-netnsid; do
	like "$out" "^$what refused" "n1: $what refused"
done
like "$out" "getlink-other-netnsids: 0 of" "n1: no other netns id reachable"
like "$out" "proc-ns-net: 0 foreign netns visible, 0 joined" "n1: no other netns under /proc"
out=$(attack n3)
ok $? "n3 (two peers): none allowed either"

netns_of() { # a node's netns name: SIM-NODE, or SIM_NODE where netsim names them so
	if [ -e "/run/netns/${SIM}_$1" ]; then echo "${SIM}_$1"; else echo "$SIM-$1"; fi
}
for n in n1 n2 n3 n4; do
	ok $(ip -n "$(netns_of $n)" -o link show eth0 2>/dev/null | grep -q 'state UP'; echo $?) "$n: eth0 still there and up"
	ok $(lacks suatk ip -n "$(netns_of $n)" -o link 2>/dev/null; echo $?) "$n: no interface planted"
done
out=$("$NETSIM" reach -s $SIM --timeout 60 2>&1)
like "$out" "12/12 pairs" "after the attacks every node still reaches every node"

# ---- a restarted node is back in the user namespace that owns its netns -------
ns_before=$(stat -L -c %i /proc/$(awk '{print $1}' /run/netsim/$SIM/nodes/n1/pid)/ns/user)
"$NETSIM" node -s $SIM n1 restart >/dev/null 2>&1
ok $? "node n1 restart"
pid=$(awk '{print $1}' /run/netsim/$SIM/nodes/n1/pid)
is "$(awk '/^Uid:/{print $2}' /proc/$pid/status)" "$base1" "n1 restarted as the same host uid"
is "$(stat -L -c %i /proc/$pid/ns/user)" "$ns_before" "n1 restarted in the same user namespace"
out=$(attack n1)
ok $? "after the restart the attacks still fail"
out=$("$NETSIM" reach -s $SIM --timeout 60 2>&1)
like "$out" "12/12 pairs" "the restarted node routes again"

# ---- down gives the ranges back -----------------------------------------------
"$NETSIM" down $SIM >/dev/null 2>&1
ok $? "down"
# a claim is a link to .ids/sim-SIM, whose first line is "SIM"
ok $(grep -lsx "$SIM" /run/netsim/.ids/* >/dev/null; [ $? -ne 0 ]; echo $?) \
	"down released the id range claims"
is "$(settled_leftovers $SIM)" "" "nothing left behind"

done_testing
