#!/bin/bash
# backend=qemu inside `netsim up`, under TCG: container n1 — VM n2 — container n3,
# meshlite everywhere.  babel routes n1 to n3 across the VM; exec goes through the
# guest agent (exit status and stdin pass through); log, console, status and
# node stop/start know the VM; `down` leaves nothing, also after `up` was
# SIGKILLed while the VM booted; a missing kernel or QEMU is named before
# anything is created.
. "$(dirname "$0")/lib.sh"
need_root
need_meshlite
command -v qemu-system-x86_64 >/dev/null ||
	skip_all "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"

BUILD_DIR=$(cd "$(dirname "$NETSIM")" && pwd)
# The kernel is not part of `make`: build it on demand, as 95-qemu.t does.
make -C "$TOP" BUILD="$BUILD_DIR" kernel >"$T_TMP/make.log" 2>&1 ||
	skip_all "make kernel failed (no Debian mirror?): $(tail -n 1 "$T_TMP/make.log")"
export NETSIM_KERNEL_DIR=$BUILD_DIR/kernel
export NETSIM_QEMU_ACCEL=tcg   # what CI machines without /dev/kvm get

SIM=tkmixed
KILLSIM=tkkilled
ERRSIM=tkqerr
cleanup_sim $SIM
cleanup_sim $KILLSIM
cleanup_sim $ERRSIM
TOPO=$(write_topo mixed.conf <<'EOF'
defaults rootfs=meshlite
node n1
node n2 backend=qemu mem=128M cpus=1
node n3
link n1 n2
link n2 n3
EOF
)
# Processes of a sim's VMs, found by their run dir on QEMU's command line.
vm_procs() { pgrep -f "qemu-system-x86_64 .*/run/netsim/$1/|netsim up -n $1 " || true; }

# --- errors before anything exists ---------------------------------------------
fails env NETSIM_KERNEL_DIR=$T_TMP/nokernel "$NETSIM" up -n $ERRSIM "$TOPO" "up without a kernel fails"
like "$out" 'node n2 \(backend=qemu\).*run `make kernel`' "the error says make kernel"
mkdir -p "$T_TMP/emptybin"
out=$(PATH=$T_TMP/emptybin "$NETSIM" up -n $ERRSIM "$TOPO" 2>&1)
like "$out" 'install the Debian package qemu-system-x86' "without QEMU the error names the package"
is "$(leftovers $ERRSIM)" "" "the failed ups left nothing"

# --- up, reach, exec -------------------------------------------------------------
out=$("$NETSIM" up -n $SIM "$TOPO" 2>&1)
ok $? "up: container n1, qemu n2, container n3"
like "$out" 'n2 +pid [0-9]+ .*\(qemu, tcg, booted in' "up's summary shows n2 as a TCG VM"
pid=$(awk '{print $1}' /run/netsim/$SIM/nodes/n2/pid 2>/dev/null)
is "$(cat /proc/"$pid"/comm 2>/dev/null)" qemu-system-x86 "n2's recorded pid is QEMU's"
like "$("$NETSIM" status $SIM 2>&1)" 'n2 +running +[0-9]+ +qemu/tcg ' "status: n2 running, backend qemu/tcg"
like "$("$NETSIM" status $SIM 2>&1)" 'n1 +running +[0-9]+ +container ' "status: n1 is a container"
like "$("$NETSIM" status --json $SIM 2>&1)" '"name":"n2","state":"running","pid":[0-9]+,.*"backend":"qemu","accel":"tcg"' \
	"status --json: backend and accel of n2"

out=$("$NETSIM" reach -s $SIM --timeout 120 2>&1)
ok $? "reach: all pairs within 120 s"
like "$out" '6/6 pairs' "reach reports 6/6 pairs (n2's own probes run in the VM)"
route=$(ip -n ${SIM}_n1 route show 10.13.0.3 2>&1)
like "$route" 'proto babel' "n1's route to n3 was learnt from babel, across the VM"

is "$("$NETSIM" exec -s $SIM n2 -- cat /proc/1/comm 2>&1)" init "exec n2: PID 1 in the VM is meshlite's init"
is "$("$NETSIM" exec -s $SIM n2 -- hostname 2>&1)" n2 "exec n2 -- hostname is n2"
"$NETSIM" exec -s $SIM n2 -- sh -c 'echo to-stderr >&2; exit 7' 2>"$T_TMP/stderr"
is $? 7 "exec passes the exit status through"
is "$(cat "$T_TMP/stderr")" to-stderr "stderr comes back separately"
is "$(echo piped | "$NETSIM" exec -s $SIM n2 -- cat 2>&1)" piped "stdin is forwarded"
mac=$(ip -n ${SIM}_n2 -o link show eth1 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
is "$("$NETSIM" exec -s $SIM n2 -- cat /sys/class/net/eth1/address 2>&1)" "$mac" \
	"the guest's eth1 has the MAC of n2's eth1 link end ($mac)"
"$NETSIM" exec -s $SIM n2 -- ip -6 route 2>&1 | grep -q 'fd13::1 .*dev eth0' &&
	"$NETSIM" exec -s $SIM n2 -- ip -6 route 2>&1 | grep -q 'fd13::3 .*dev eth1'
ok $? "in the VM, babel routes n1 via eth0 and n3 via eth1 (names and order kept)"

# --- log, console, shell ---------------------------------------------------------
like "$("$NETSIM" log -s $SIM n2 2>&1)" 'meshlite: starting babeld on eth0 eth1' \
	"log n2 shows the VM's console (meshlite's init)"
timeout 30 "$NETSIM" console -s $SIM n2 </dev/null >/dev/null 2>&1
ok $? "console attaches to n2's serial console"
like "$("$NETSIM" shell -s $SIM n2 2>&1 </dev/null)" 'not supported for qemu nodes; use `netsim console n2`' \
	"shell on a qemu node points to console"

# --- node stop / start -----------------------------------------------------------
"$NETSIM" node -s $SIM n2 stop >/dev/null 2>&1
ok $? "node n2 stop"
ok $([ ! -e /proc/"$pid" ] || grep -q '^State:.*Z' /proc/"$pid"/status; echo $?) "QEMU is gone"
like "$("$NETSIM" status $SIM 2>&1)" 'n2 +stopped +0 +qemu' "status shows n2 stopped"
out=$("$NETSIM" exec -s $SIM n2 -- true 2>&1)
like "$out" 'node n2 is not running' "exec on the stopped VM says so"
out=$("$NETSIM" node -s $SIM n2 start 2>&1)
ok $? "node n2 start boots the VM again: $out"
pid=$(awk '{print $1}' /run/netsim/$SIM/nodes/n2/pid 2>/dev/null)
is "$("$NETSIM" exec -s $SIM n2 -- hostname 2>&1)" n2 "exec works after the restart"
out=$("$NETSIM" reach -s $SIM --timeout 120 2>&1)
like "$out" '6/6 pairs' "after the restart, all pairs reach again"

# --- down ---------------------------------------------------------------------------
"$NETSIM" down $SIM >/dev/null 2>&1
ok $? "down"
is "$(leftovers $SIM "$pid")" "" "down leaves nothing (netns, state dir, mounts, QEMU)"
is "$(vm_procs $SIM)" "" "no QEMU process of the sim"
is "$(ip -br link | grep -c '^tap')" 0 "no TAP in the host namespace"

# --- SIGKILL of up while the VM boots ------------------------------------------------
"$NETSIM" up -n $KILLSIM "$TOPO" >/dev/null 2>&1 &
up_pid=$!
for i in $(seq 1 300); do
	[ -s /run/netsim/$KILLSIM/nodes/n2/qemu.pid ] && break
	sleep 0.1
done
qemu_pid=$(awk '{print $1}' /run/netsim/$KILLSIM/nodes/n2/qemu.pid 2>/dev/null)
ok $([ -n "$qemu_pid" ] && [ -e /proc/"$qemu_pid" ]; echo $?) "QEMU started (pid $qemu_pid)"
fails [ -s /run/netsim/$KILLSIM/nodes/n2/pid ] "up is still waiting for the agent"
kill -KILL $up_pid
wait $up_pid 2>/dev/null
sleep 0.5
"$NETSIM" down $KILLSIM >/dev/null 2>&1
ok $? "down after SIGKILL of up"
is "$(leftovers $KILLSIM "$qemu_pid")" "" "nothing left: QEMU, netns, state dir"
is "$(vm_procs $KILLSIM)" "" "no QEMU or boot process of the sim (the boot child died with up)"
done_testing
