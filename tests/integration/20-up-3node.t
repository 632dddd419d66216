#!/bin/bash
# The README's promise: topologies/3node.conf comes up, babel routes n1 to n3
# through n2, the nodes are real containers, and `down` leaves nothing behind.
. "$(dirname "$0")/lib.sh"
need_root
need_meshlite

SIM=t3node
cleanup_sim $SIM

out=$("$NETSIM" up -n $SIM "$TOP/topologies/3node.conf" 2>&1)
ok $? "up topologies/3node.conf as $SIM"
like "$out" "sim $SIM up: 3 nodes, 2 links" "up prints a summary"
pids=$(node_pids $SIM)
is "$(echo "$pids" | wc -w)" 3 "three node pid files"

out=$("$NETSIM" reach -s $SIM --timeout 60 2>&1)
ok $? "reach: every node reaches every node within 60 s"
like "$out" "6/6 pairs" "reach reports 6/6 pairs"

route=$(ip -n ${SIM}_n1 route show 10.13.0.3 2>&1)
like "$route" "proto babel" "n1's route to n3 was learnt from babel"
like "$route" "dev eth0" "n1 reaches n3 through its only link (to n2)"
direct=$("$NETSIM" exec -s $SIM n1 -- ip -o link 2>&1 | grep -c 'eth[0-9]')
is "$direct" 1 "n1 has exactly one link (no direct way to n3)"

is "$("$NETSIM" exec -s $SIM n2 -- hostname 2>&1)" n2 "exec n2 -- hostname is n2"
"$NETSIM" exec -s $SIM n2 -- sh -c 'exit 7'
is $? 7 "exec passes the exit status through"

cmd1=$("$NETSIM" exec -s $SIM n1 -- cat /proc/1/cmdline 2>&1 | tr '\0' ' ')
like "$cmd1" "^(/bin/sh )?/sbin/init" "PID 1 in the node is its init (the meshlite init script)"
host_pid1=$(tr '\0' ' ' </proc/1/cmdline)
nprocs=$("$NETSIM" exec -s $SIM n1 -- sh -c 'ls -d /proc/[0-9]* | wc -l' 2>&1)
ok $([ "$nprocs" -lt 10 ]; echo $?) "node sees only its own processes ($nprocs)"
ok $("$NETSIM" exec -s $SIM n1 -- ls /proc/$$ >/dev/null 2>&1; [ $? -ne 0 ]; echo $?) \
	"host process $$ is invisible in the node"
# Mount points the node sees: its own root, /proc, /sys, /dev, /tmp, /run — none
# of the host's (/work, /var, /run/netns, /boot, ...).
# ...and the host-global /proc and /sys paths hidden or made read-only
# (runtime/mounts.c, kernel_views; docs/security.md):
GUARDED=$(printf '%s|' /proc/kcore /proc/kpagecgroup /proc/kpagecount /proc/kpageflags \
	/proc/keys /proc/key-users /proc/timer_list /proc/timer_stats /proc/sched_debug \
	/proc/latency_stats /proc/acpi /proc/asound /proc/scsi /sys/firmware \
	/sys/devices/virtual/powercap /proc/sysrq-trigger /proc/irq /proc/bus /proc/fs \
	/proc/sysvipc /proc/mtrr /proc/pressure)
GUARDED=${GUARDED%|}
points=$("$NETSIM" exec -s $SIM n1 -- cat /proc/self/mountinfo 2>&1 | awk '{print $5}' | sort -u | tr '\n' ' ')
like "$points" "^/ /dev " "node has its own root and /dev ($points)"
ok $(echo "$points" | tr ' ' '\n' | grep -Evq "^(/|/dev|/dev/console|/dev/pts|/dev/null|/dev/zero|/dev/full|/dev/random|/dev/urandom|/dev/tty|/dev/shm|/dev/mqueue|/proc|/proc/sys|/proc/sys/net|/sys|/tmp|/run|$GUARDED|)\$"; [ $? -ne 0 ]; echo $?) \
	"node cannot see host mounts"
capeff=$("$NETSIM" exec -s $SIM n1 -- grep CapEff /proc/1/status 2>&1 | awk '{print $2}')
# docs/architecture.md: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
# NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW SYS_CHROOT AUDIT_WRITE SETFCAP
mask=0
for cap in 0 1 3 4 5 6 7 8 10 11 12 13 18 29 31; do mask=$((mask | 1 << cap)); done
# ...as far as the host has them (some hosts run root without e.g. NET_ADMIN),
# unless the node has a user namespace of its own: there it starts with all.
host=$(awk '/^CapEff/{print $2}' /proc/self/status)
n1pid=$(awk '{print $1}' /run/netsim/$SIM/nodes/n1/pid)
[ "$(readlink /proc/$n1pid/ns/user)" != "$(readlink /proc/self/ns/user)" ] && host=ffffffffffffffff
want=$(printf '%016x' $((mask & 0x$host)))
is "$capeff" "$want" "CapEff of PID 1 is the documented set"
fails "$NETSIM" exec -s $SIM n1 -- insmod /bin/busybox "loading a kernel module from inside fails"
fails "$NETSIM" exec -s $SIM n1 -- mount -t tmpfs none /mnt "mount from inside fails"

status=$("$NETSIM" status $SIM 2>&1)
like "$status" "n3 +running" "status lists n3 as running"
like "$status" "n1:eth0 -- n2:eth0 +up" "status shows the n1-n2 link up"
json=$("$NETSIM" status --json $SIM 2>&1)
like "$json" '^\{"sim":"t3node".*"nodes":\[\{"name":"n1","state":"running"' "status --json"
log=$("$NETSIM" log -s $SIM n2 2>&1)
like "$log" "babeld" "log shows n2's console (babeld started)"

fails "$NETSIM" up -n $SIM "$TOP/topologies/3node.conf" "the same sim cannot be started twice"
like "$out" "already up" "...with a clear message"

out=$("$NETSIM" down $SIM 2>&1)
ok $? "down"
sleep 0.5
left=$(leftovers $SIM $pids)
is "$left" "" "nothing of the sim remains (netns, state, mounts, processes)"
out=$("$NETSIM" down $SIM 2>&1)
ok $? "down again is fine (idempotent)"

done_testing
