#!/bin/bash
# docs/security.md "CAP_SYS_ADMIN for FRR": a node given caps=+sys_admin holds
# CAP_SYS_ADMIN in its own user namespace only.  From inside it, as node root
# with that capability, every known way out through it is tried
# (tests/security/sysadmin-attack.c: mounts and remounts of /proc and /sys,
# the new mount API, open_tree clones, pivot_root, open_by_handle_at, a user
# namespace, host knobs, devices, syslog, realtime I/O, trusted xattrs,
# endless namespaces); all must be refused, and the host and the mesh unchanged.
. "$(dirname "$0")/lib.sh"
need_root
need_meshlite
ATTACK=${NETSIM_BUILD:-$TOP/build}/tests/sysadmin-attack
[ -x "$ATTACK" ] || skip_all "$ATTACK not built (make)"

SIM=k1sa
cleanup_sim $SIM
topo=$(write_topo sa.conf <<EOF
sim $SIM
node n1 caps=+sys_admin
node n2
node n3 caps=+sys_admin
link n1 n2
link n2 n3
EOF
)
out=$("$NETSIM" up "$topo" 2>&1)
ok $? "up: two of three nodes with caps=+sys_admin"
bnd() { awk '/^CapBnd:/{print $2}' /proc/$(awk '{print $1}' /run/netsim/$SIM/nodes/$1/pid)/status; }
has_sys_admin() { [ $(( 0x$1 >> 21 & 1 )) = 1 ]; }
ok $(has_sys_admin "$(bnd n1)"; echo $?) "n1's PID 1 has CAP_SYS_ADMIN in its bounding set ($(bnd n1))"
ok $(has_sys_admin "$(bnd n2)"; [ $? -ne 0 ]; echo $?) "n2 (no caps=) has not ($(bnd n2))"
eff=$("$NETSIM" exec -s $SIM n1 -- awk '/^CapEff:/{print $2}' /proc/self/status 2>&1)
ok $(has_sys_admin "$eff"; echo $?) "exec in n1 gets the node's CAP_SYS_ADMIN too ($eff)"
eff=$("$NETSIM" exec -s $SIM n2 -- awk '/^CapEff:/{print $2}' /proc/self/status 2>&1)
ok $(has_sys_admin "$eff"; [ $? -ne 0 ]; echo $?) "exec in n2 does not ($eff)"
is "$("$NETSIM" exec -s $SIM n1 -- cat /proc/sys/user/max_user_namespaces 2>&1)" 0 \
	"n1 may make no user namespace"

host_core=$(cat /proc/sys/kernel/core_pattern)
host_name=$(hostname)
host_mounts=$(wc -l </proc/self/mountinfo)
"$NETSIM" exec -s $SIM n1 -- sh -c 'cat > /tmp/sa && chmod 755 /tmp/sa' <"$ATTACK"
out=$("$NETSIM" exec -s $SIM n1 -- /tmp/sa 2>&1)
ok $? "n1: nothing CAP_SYS_ADMIN could do led out"
echo "$out" | sed 's/^/# /'
for what in mount-tmpfs remount-proc-sys-rw remount-sys-rw mount-proc-again mount-sysfs-again \
	bind-root umount-proc-sys fsopen-tmpfs open_tree-clone-proc pivot_root mount-in-new-mntns \
	open_by_handle_at unshare-user write-proc-sys-vm write-proc-sys-kernel write-sys-kernel \
	mknod-block-device syslog-clear ioprio-realtime swapon keyctl bpf perf_event_open \
	fanotify-content trusted-xattr; do
	like "$out" "^$what refused" "n1: $what refused"
done
like "$out" "namespaces: ([0-9]|[12][0-9]|3[0-2]) net namespaces made" \
	"n1 makes network namespaces (FRR's netns VRFs), at most 32"
"$NETSIM" exec -s $SIM n1 -- hostname sa-renamed
ok $? "n1 may rename itself (its own UTS namespace)"
is "$(hostname)" "$host_name" "the host's name is unchanged"
is "$(cat /proc/sys/kernel/core_pattern)" "$host_core" "the host's core_pattern is unchanged"
is "$(wc -l </proc/self/mountinfo)" "$host_mounts" "the host's mount table is unchanged"

out=$("$NETSIM" reach -s $SIM --timeout 60 2>&1)
like "$out" "6/6 pairs" "after the attacks every node still reaches every node"

"$NETSIM" node -s $SIM n1 restart >/dev/null 2>&1
ok $? "node n1 restart"
ok $(has_sys_admin "$(bnd n1)"; echo $?) "the restarted n1 has CAP_SYS_ADMIN again"
out=$("$NETSIM" exec -s $SIM n1 -- sh -c 'cat > /tmp/sa && chmod 755 /tmp/sa && /tmp/sa' <"$ATTACK" 2>&1)
ok $? "after the restart the attacks still fail"

"$NETSIM" down $SIM >/dev/null 2>&1
ok $? "down"
is "$(settled_leftovers $SIM)" "" "nothing left behind"
done_testing
