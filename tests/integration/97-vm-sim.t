#!/bin/bash
# The whole sim in one VM (`netsim up --vm`, netsim/sim/vmsim.c) under TCG: one VM
# boot serves batman-adv over VLAN 29 on a line of three meshlite nodes, a netem
# delay, and babel rerouting around a 100%-loss link of a four-node ring, all
# driven from the host through forwarded verbs; status/list say "in VM"; capture
# and run move files across; `down` leaves nothing, also after SIGKILL or SIGTERM
# of `up` during boot; the errors name their fix.
. "$(dirname "$0")/lib.sh"
need_root
need_meshlite
command -v qemu-system-x86_64 >/dev/null ||
	skip_all "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"

BUILD_DIR=$(cd "$(dirname "$NETSIM")" && pwd)
if [ -z "${NETSIM_KERNEL_DIR:-}" ] || [ ! -f "$NETSIM_KERNEL_DIR/vmlinuz" ]; then
	# Not part of `make`: build it on demand (downloads the package once).
	make -C "$TOP" BUILD="$BUILD_DIR" kernel >"$T_TMP/make.log" 2>&1 ||
		skip_all "make kernel failed (no Debian mirror?): $(tail -n 1 "$T_TMP/make.log")"
	export NETSIM_KERNEL_DIR=$BUILD_DIR/kernel
fi
make -C "$TOP" BUILD="$BUILD_DIR" "$BUILD_DIR/tests/qemu-node" >>"$T_TMP/make.log" 2>&1
QN=$BUILD_DIR/tests/qemu-node
export NETSIM_QEMU_ACCEL=tcg   # what CI machines without /dev/kvm get
export NETSIM_ROOTFS_DIR=${NETSIM_ROOTFS_DIR:-${NETSIM_BUILD:-$TOP/build}/rootfs}
SIM=tzvm
cleanup_sim $SIM
VMRUN=/run/netsim/$SIM/vm.d

# --- errors that say what to do -------------------------------------------------
TOPO=$(write_topo ring.conf <<EOF
sim $SIM
node n1
node n2
node n3
node n4
link n1 n2
link n2 n3
link n3 n4 delay=100ms
link n4 n1
EOF
)
out=$(NETSIM_KERNEL_DIR=$T_TMP/nokernel "$NETSIM" up --vm "$TOPO" 2>&1)
like "$out" 'run `make kernel`' "no kernel: the error says make kernel"
mkdir -p "$T_TMP/emptybin"
out=$(PATH=$T_TMP/emptybin "$NETSIM" up --vm "$TOPO" 2>&1)
like "$out" 'qemu-system-x86' "no QEMU: the error names qemu-system-x86"
is "$(leftovers $SIM)" "" "the refused ups left nothing"
# FRR's CAP_SYS_ADMIN needs a user namespace per node, which the VM's 6.1 kernel
# cannot give (no idmapped tmpfs): refused, saying why and what works instead
CAPS=$(write_topo caps.conf <<EOF
sim $SIM
node a caps=+sys_admin
node b
link a b
EOF
)
out=$("$NETSIM" up --vm "$CAPS" 2>&1)
is $? 1 "up --vm of a caps=+sys_admin node is refused"
like "$out" "caps=\+sys_admin \(FRR\) is given only to a node in a user namespace of its own" \
	"...saying why ($out)"
like "$out" "bring the sim up without --vm" "...and the alternative"
is "$(leftovers $SIM)" "" "...and leaves nothing"

# batctl (Debian's, with libnl-genl) laid over every node, to list batman's
# neighbours; without a mirror the batman part still pings over bat0.
FILES=$T_TMP/files
DEBS=$BUILD_DIR/vmsim-debs
mkdir -p "$FILES/usr/lib/x86_64-linux-gnu" "$DEBS"
(cd "$DEBS" && { ls batctl_*.deb libnl-genl-3-200_*.deb >/dev/null 2>&1 ||
	apt-get download batctl libnl-genl-3-200; }) >>"$T_TMP/make.log" 2>&1
have_batctl=0
if ls "$DEBS"/batctl_*.deb "$DEBS"/libnl-genl-3-200_*.deb >/dev/null 2>&1; then
	for deb in "$DEBS"/batctl_*.deb "$DEBS"/libnl-genl-3-200_*.deb; do dpkg-deb -x "$deb" "$FILES"; done
	cp -L /lib/x86_64-linux-gnu/libnl-3.so.200 "$FILES/usr/lib/x86_64-linux-gnu/"
	have_batctl=1
fi
sed -i "1a defaults files=$FILES" "$TOPO"

# --- one VM for batman-adv, netem and babel ----------------------------------------
start=$(date +%s.%N)
out=$("$NETSIM" up --vm "$TOPO" 2>&1)
ok $? "up --vm of a 4-node ring: $(tail -n 1 <<<"$out")"
boot_s=$(echo "$(date +%s.%N) - $start" | bc)
echo "# up --vm took $boot_s s"
like "$out" 'sim tzvm up: 4 nodes' "the netsim inside brought the sim up"
like "$out" 'vm: tcg, [12] cpus?, 512 MiB' "the VM line: TCG, 512 MiB by default"
qemu_pid=$(awk '{print $1}' $VMRUN/qemu.pid)
cmdline=$(tr '\0' ' ' </proc/"$qemu_pid"/cmdline)
like "$cmdline" ' -nodefaults ' "QEMU runs with -nodefaults"
ok "$(grep -Ec -- ' -(netdev|nic|net) ' <<<"$cmdline")" "QEMU has no network backend"
out=$("$QN" exec --run-dir $VMRUN --timeout 30 -- /netsim/bin/ls /sys/class/net)
is "$(grep -Ev '^(lo|hwsim0)$' <<<"$out")" "" "the VM has no network device besides lo (and hwsim's monitor)"

out=$("$NETSIM" status $SIM)
like "$(head -n 1 <<<"$out")" '^sim tzvm .*\(in VM, accel tcg' "status says: in VM, accel tcg"
like "$out" 'n4 +running' "status lists the nodes inside"
out=$("$NETSIM" status --json $SIM)
like "$out" '^\{"vm":true,"accel":"tcg"' "status --json has \"vm\":true"
like "$("$NETSIM" list)" '^tzvm +in a VM \(running, accel tcg\)' "list shows the VM sim"

# (1) batman-adv over VLAN 29 on the line n1 - n2 - n3 (LibreMesh's layout):
# n1:eth0-n2:eth0 and n2:eth1-n3:eth0.
setup_bat() { # NODE N IFACES...
	local node=$1 n=$2
	shift 2
	"$NETSIM" exec -s $SIM $node -- ip link add bat0 type batadv || return 1
	for ifc in "$@"; do
		"$NETSIM" exec -s $SIM $node -- ip link add link $ifc name $ifc.29 type vlan id 29 &&
			"$NETSIM" exec -s $SIM $node -- ip link set $ifc.29 master bat0 &&
			"$NETSIM" exec -s $SIM $node -- ip link set $ifc.29 up || return 1
	done
	"$NETSIM" exec -s $SIM $node -- ip addr add 10.29.0.$n/24 dev bat0 &&
		"$NETSIM" exec -s $SIM $node -- ip link set bat0 up
}
setup_bat n1 1 eth0 && setup_bat n2 2 eth0 eth1 && setup_bat n3 3 eth0
ok $? "VLAN 29 and bat0 on n1, n2, n3 (netsim exec)"
is "$("$NETSIM" exec -s $SIM n2 -- cat /sys/class/net/eth1.29/master/ifindex)" \
	"$("$NETSIM" exec -s $SIM n2 -- cat /sys/class/net/bat0/ifindex)" "n2's eth1.29 is a port of bat0"
for i in $(seq 1 30); do
	out=$("$NETSIM" exec -s $SIM n1 -- ping -c 1 -W 2 10.29.0.3 2>&1) && break
	sleep 1
done
like "$out" '1 packets received' "n1 pings n3 over bat0 (through n2's batman)"
if [ $have_batctl = 1 ]; then
	out=$("$NETSIM" exec -s $SIM n2 -- batctl n 2>&1)
	sed 's/^/# /' <<<"$out"
	is "$(grep -Ec '^ *eth[01]\.29[[:space:]]+[0-9a-f:]{17}' <<<"$out")" 2 "batctl n: n2 has two batman neighbours"
	out=$("$NETSIM" exec -s $SIM n1 -- batctl o 2>&1)
	sed 's/^/# /' <<<"$out"
	is "$(grep -Ec '^ *\*? *[0-9a-f:]{17} ' <<<"$out")" 2 "batctl o: n1 knows two originators (n2 and n3)"
else
	echo "# batctl not downloadable: neighbour listing skipped"
fi

# (2) netem inside the VM: the topology's delay=100ms on n3-n4.
out=$("$NETSIM" exec -s $SIM n3 -- ping -c 3 10.13.0.4 2>&1)
rtt=$(sed -n 's|.*min/avg/max = \([0-9.]*\)/.*|\1|p' <<<"$out")
ok "$(awk -v r="${rtt:-0}" 'BEGIN { print (r >= 100) ? 0 : 1 }')" "netem delay=100ms: min RTT ${rtt:-?} ms >= 100"

# (3) babel reroutes around a link with 100% loss (the other way round the ring).
out=$("$NETSIM" reach -s $SIM --timeout 90 2>&1)
ok $? "all reach all before the fault: $(tail -n 1 <<<"$out")"
out=$("$NETSIM" link -s $SIM n1 n2 set loss=100% 2>&1)
ok $? "link n1 n2 set loss=100%: $out"
out=$("$NETSIM" exec -s $SIM n1 -- ping -c 2 -W 1 10.13.0.2 2>&1)
ok $((! $?)) "right after the change, n1 does not reach n2 directly"
out=$("$NETSIM" reach -s $SIM --timeout 120 2>&1)
ok $? "reach succeeds again: $(tail -n 1 <<<"$out")"
like "$("$NETSIM" exec -s $SIM n1 -- ip route)" '10\.13\.0\.2 (via [^ ]+ )?dev eth1' "n1's route to n2 now goes via eth1 (n4)"

# capture -w: the pcap comes to the host; run: the scenario goes to the VM.
"$NETSIM" capture -s $SIM n2:eth1 -w "$T_TMP/c.pcap" -c 2 2>"$T_TMP/cap.err"
ok $? "capture -w FILE -c 2 (forwarded)"
is "$(head -c 4 "$T_TMP/c.pcap" | od -An -tx1 | tr -d ' ')" "d4c3b2a1" "the pcap file is on the host"
SCN=$(write_topo heal.scn <<EOF
at 0s link n1 n2 set loss=0%
expect reach n1 n2 within 60s
EOF
)
out=$("$NETSIM" run -s $SIM "$SCN" 2>&1)
ok $? "run SCENARIO (file streamed in): $(tail -n 1 <<<"$out")"
"$NETSIM" exec -s $SIM n1 -- sh -c 'cat; exit 7' <<<"through stdin" >"$T_TMP/exec.out"
is "$? $(cat "$T_TMP/exec.out")" "7 through stdin" "exec: stdin in, stdout out, exit status through"
like "$("$NETSIM" shell -s $SIM n1 2>&1 </dev/null)" 'no terminal.*netsim exec' "shell: a clear message"
like "$("$NETSIM" log -s $SIM n1 2>&1)" 'babeld' "log is forwarded"

# --- memory ------------------------------------------------------------------------
rss=$(awk '/^VmRSS/ {print int($2 / 1024)}' /proc/"$qemu_pid"/status)
echo "# QEMU RSS with the 4-node sim up: $rss MiB"

# (4) down stops the VM and leaves nothing behind.
out=$("$NETSIM" down $SIM 2>&1)
ok $? "down: $out"
is "$(leftovers $SIM "$qemu_pid")" "" "no state dir, no QEMU process left"

# --- killed during boot -----------------------------------------------------------
wait_pidfile() {
	for i in $(seq 1 100); do
		[ -s $VMRUN/qemu.pid ] && return 0
		sleep 0.1
	done
	return 1
}
"$NETSIM" up --vm -q "$TOPO" >/dev/null 2>&1 &
up=$!
wait_pidfile
ok $? "up --vm in the background started QEMU"
qemu_pid=$(awk '{print $1}' $VMRUN/qemu.pid)
kill -KILL $up
wait $up 2>/dev/null
like "$("$NETSIM" status $SIM 2>&1)" 'interrupted.*netsim down' "status of the killed up says to run down"
"$NETSIM" down $SIM >/dev/null
ok $? "down after SIGKILL of up"
is "$(leftovers $SIM "$qemu_pid")" "" "after SIGKILL of up + down: nothing left, QEMU gone"

"$NETSIM" up --vm -q "$TOPO" >/dev/null 2>"$T_TMP/term.err" &
up=$!
wait_pidfile
qemu_pid=$(awk '{print $1}' $VMRUN/qemu.pid)
kill -TERM $up
wait $up
ok $((! $?)) "up --vm fails on SIGTERM during boot"
like "$(cat "$T_TMP/term.err")" 'interrupted' "and says it was interrupted"
is "$(leftovers $SIM "$qemu_pid")" "" "after SIGTERM of up: nothing left, QEMU gone"
done_testing
