#!/bin/bash
# Security, the smaller families (docs/security.md): from inside a node, the
# host-global parts of /proc and /sys can be neither written nor read; netns
# names of two sims cannot collide, and a failed `up` removes only what it
# created; /etc/hostname is never written through a symlink of the rootfs; the
# web view keeps answering while idle clients hold connections, and closes them;
# `forward` takes its options where its usage line puts them.
. "$(dirname "$0")/lib.sh"
need_root
need_meshlite

SIM=smp
cleanup_sim $SIM
cleanup_sim smq
cleanup_sim smq-a
cleanup_sim smq-b
WEB_PID=
FWD_PIDS=()
FOREIGN=()
cleanup_all() {
	[ -n "$WEB_PID" ] && kill -TERM "$WEB_PID" 2>/dev/null && wait "$WEB_PID" 2>/dev/null
	for p in "${FWD_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for ns in "${FOREIGN[@]}"; do ip netns del "$ns" 2>/dev/null; done
	t_cleanup
}
trap cleanup_all EXIT

# ---- a rootfs whose /etc/hostname is a symlink ------------------------------------
# Node a's points at a host file, node b's at /dev/console (the host's console log).
mkdir -p "$T_TMP/files-a/etc" "$T_TMP/files-b/etc"
echo "host file, must stay" >"$T_TMP/victim"
ln -s "$T_TMP/victim" "$T_TMP/files-a/etc/hostname"
ln -s /dev/console "$T_TMP/files-b/etc/hostname"
topo=$(write_topo smp.conf <<EOF
sim $SIM
defaults rootfs=meshlite
node a files=$T_TMP/files-a
node b files=$T_TMP/files-b
link a b
EOF
)
host_affinity=$(cat /proc/irq/default_smp_affinity 2>/dev/null)
out=$("$NETSIM" up "$topo" 2>&1)
st=$?
ok $st "up $SIM (both nodes' rootfs have a symlink /etc/hostname)"
[ $st -eq 0 ] || { echo "$out" | sed 's/^/#   /'; echo "Bail out! up failed"; exit 1; }

is "$(cat "$T_TMP/victim")" "host file, must stay" "the host file the symlink named is untouched"
is "$(readlink "$T_TMP/files-a/etc/hostname")" "$T_TMP/victim" "the files= dir still has its symlink"
for n in a b; do
	is "$("$NETSIM" exec -s $SIM $n -- sh -c 'test -L /etc/hostname && echo symlink; cat /etc/hostname')" \
		"$n" "node $n: /etc/hostname is a regular file with its name"
done
first=$(head -1 /run/netsim/$SIM/nodes/b/console.log)
ok $([ "$first" != b ]; echo $?) "node b's console log was not truncated and overwritten ($first)"

# /etc itself a symlink: refused, and nothing of the sim is left.
mkdir -p "$T_TMP/files-etc"
ln -s /proc/sys/net/ipv4/conf/all "$T_TMP/files-etc/etc"
cleanup_sim smh
topo_etc=$(write_topo smh.conf <<EOF
sim smh
defaults rootfs=meshlite
node x files=$T_TMP/files-etc
EOF
)
fails "$NETSIM" up "$topo_etc" "up refuses a rootfs whose /etc is a symlink"
like "$out" "open /etc of the rootfs \(a symlink is refused\)" "...saying so"
is "$(settled_leftovers smh)" "" "...and leaves nothing behind"

# ---- /proc and /sys: attacks from inside a node -------------------------------------
# Each line of output names an attack that worked.  Writes open the file for
# appending and write nothing (`: >>f`), or write back what the file holds: run
# against a netsim without the guards, the test must fail without changing the
# host (a real "1" in default_smp_affinity would move the host's IRQs).
attack='
for f in /proc/irq/default_smp_affinity /proc/irq/*/smp_affinity /proc/irq/*/smp_affinity_list \
	/proc/sysrq-trigger /proc/pressure/cpu /proc/sys/kernel/hostname /proc/sys/vm/drop_caches \
	/sys/kernel/mm/ksm/run /sys/kernel/uevent_helper /sys/class/net/lo/uevent \
	/sys/devices/system/cpu/cpu0/online /sys/module/printk/parameters/time; do
	(: >>"$f") 2>/dev/null && echo "opened $f for writing" # also where this kernel lacks f
done
for f in /proc/irq/default_smp_affinity /proc/irq/*/smp_affinity; do
	[ -r "$f" ] && v=$(cat "$f") && (echo "$v" >"$f") 2>/dev/null && echo "wrote $f"
done
(touch /sys/netsim-probe) 2>/dev/null && echo "created /sys/netsim-probe"
(mkdir /proc/irq/netsim-probe) 2>/dev/null && echo "created /proc/irq/netsim-probe"
for f in /proc/kpageflags /proc/kpagecount /proc/kpagecgroup /proc/kcore /proc/keys \
	/proc/key-users /proc/timer_list /proc/sched_debug /proc/latency_stats; do
	[ -e "$f" ] || continue
	n=$(head -c 64 "$f" 2>/dev/null | wc -c)
	[ "$n" -gt 0 ] && echo "read $n bytes of $f"
done
n=$(ls -A /sys/firmware 2>/dev/null | wc -l)
[ "$n" -gt 0 ] && echo "/sys/firmware lists $n entries"
n=$(ls -A /proc/acpi /proc/scsi /sys/devices/virtual/powercap 2>/dev/null | grep -vc ":$\|^$")
[ "$n" -gt 0 ] && echo "acpi/scsi/powercap list $n entries"
true'
out=$("$NETSIM" exec -s $SIM a -- sh -c "$attack" 2>&1)
is "$out" "" "node root writes no host-global /proc or /sys file and reads no host memory or keys"
ok $("$NETSIM" exec -s $SIM a -- sh -c 'ls /proc/irq | grep -q . && head -c1 /proc/irq/default_smp_affinity | grep -q .'; echo $?) \
	"...while /proc/irq stays readable (read-only, not hidden)"
is "$(cat /proc/irq/default_smp_affinity 2>/dev/null)" "$host_affinity" "the host's default IRQ affinity is unchanged"
ok $("$NETSIM" exec -s $SIM a -- sh -c 'echo 0 >/proc/sys/net/ipv4/conf/all/rp_filter'; echo $?) \
	"the node's own /proc/sys/net stays writable"
out=$("$NETSIM" reach -s $SIM --timeout 60 2>&1)
ok $? "the nodes still reach each other after the attacks"

# ---- forward: options after the positionals -----------------------------------------
for args in "a 0:7 --background" "a 0:7 -s $SIM --background --json"; do
	# shellcheck disable=SC2086
	if [[ $args == *-s* ]]; then out=$("$NETSIM" forward $args 2>&1); else
		out=$("$NETSIM" forward -s $SIM $args 2>&1); fi
	st=$?
	ok $st "forward $args"
	pid=$(printf '%s' "$out" | sed -n 's/.*pid[": ]*\([0-9][0-9]*\).*/\1/p' | head -1)
	[ -n "$pid" ] && FWD_PIDS+=("$pid")
	ok $([ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; echo $?) "...detached, relay pid $pid runs ($out)"
done
ok $(ls /run/netsim/$SIM/forwards | wc -l | grep -qx 2; echo $?) "both relays are recorded for down"

# ---- web: idle clients ---------------------------------------------------------------
"$NETSIM" web -s $SIM --port 0 >"$T_TMP/web.out" 2>"$T_TMP/web.err" &
WEB_PID=$!
for _ in $(seq 100); do grep -q '^netsim web:' "$T_TMP/web.out" && break; sleep 0.1; done
PORT=$(sed -n 's|.*127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$T_TMP/web.out")
[ -n "$PORT" ] || { echo "Bail out! web did not start: $(cat "$T_TMP/web.err")"; exit 1; }
http_status() {
	exec {h}<>"/dev/tcp/127.0.0.1/$PORT" || return 1
	printf 'GET /api/status HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$PORT" >&$h
	timeout 5 head -1 <&$h | tr -d '\r' | awk '{print $2}'
	exec {h}<&-
}
open_idle() { # N: connections that send nothing, fds in IDLE[]
	IDLE=()
	local i fd
	for ((i = 0; i < $1; i++)); do
		exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" && IDLE+=("$fd")
	done
}
close_idle() { local fd; for fd in "${IDLE[@]}"; do exec {fd}<&-; done; IDLE=(); }

open_idle 100
is "${#IDLE[@]}" 100 "100 idle connections to the web view are open"
start=$(date +%s%N)
got=$(http_status)
took_ms=$((($(date +%s%N) - start) / 1000000))
is "$got" 200 "a real GET still answers 200 (in $took_ms ms)"
ok $([ $took_ms -lt 3000 ]; echo $?) "...within 3 s"
sleep 12 # the idle timeout is 10 s
closed=0
for fd in "${IDLE[@]}"; do
	read -r -t 1 -u "$fd" _; [ $? -eq 1 ] && closed=$((closed + 1)) # 1: EOF; >128: timeout
done
is "$closed" 100 "the server closed all 100 idle connections after its idle timeout"
close_idle
open_idle 270
is "$(http_status)" 503 "with 270 connections open a request is refused with 503, not left hanging"
close_idle
sleep 0.5
is "$(http_status)" 200 "...and answered again once they are gone"
kill -TERM "$WEB_PID"; wait "$WEB_PID" 2>/dev/null; WEB_PID=

"$NETSIM" down $SIM >/dev/null 2>&1
ok $? "down $SIM"
gone() { [ ! -e /proc/$1 ] || grep -q '^State:.*Z' /proc/$1/status 2>/dev/null; }
running=
for p in "${FWD_PIDS[@]}"; do
	for _ in $(seq 30); do gone "$p" && break; sleep 0.1; done
	gone "$p" || running+=" $p"
done
is "$running" "" "down stopped the forward relays"
is "$(settled_leftovers $SIM)" "" "nothing of $SIM is left"

# ---- names: sims whose old SIM-NODE names collided -----------------------------------
# smq node a-b and smq-a node b were both /run/netns/smq-a-b.
q1=$(write_topo smq.conf <<EOF
sim smq
defaults rootfs=meshlite
node a-b
node c
segment s0 a-b c
EOF
)
q2=$(write_topo smq-a.conf <<EOF
sim smq-a
defaults rootfs=meshlite
node b
node sw
link b sw
EOF
)
"$NETSIM" up "$q1" >/dev/null 2>&1
ok $? "up smq (node a-b)"
out=$("$NETSIM" up "$q2" 2>&1)
ok $? "up smq-a (node b, and a node called sw) while smq runs"
[ -n "$out" ] && ! printf '%s' "$out" | grep -q "sim smq-a up" && echo "$out" | sed 's/^/#   /'
ns_list=$(ls /run/netns | grep '^smq' | sort | tr '\n' ' ')
is "$ns_list" "smq-a_b smq-a_sw smq.sw smq_a-b smq_c " "five distinct namespaces"
like "$(ip netns exec smq_a-b ip -br addr show lo)" "10\.13\.0\.1/32" "ip netns exec smq_a-b works"
ok $("$NETSIM" reach -s smq --timeout 60 >/dev/null 2>&1; echo $?) "smq's nodes reach each other"
ok $("$NETSIM" reach -s smq-a --timeout 60 >/dev/null 2>&1; echo $?) "smq-a's nodes reach each other"

# A namespace of the name `up` wants already exists (someone's own, a leftover):
# up fails, and its rollback must not take that namespace away.
q3=$(write_topo smq-b.conf <<EOF
sim smq-b
defaults rootfs=meshlite
node a
node c
segment s0 a c
EOF
)
for foreign in smq-b_c smq-b.sw; do
	ip netns add $foreign && FOREIGN+=($foreign)
	inode=$(stat -L -c %i /run/netns/$foreign)
	out=$("$NETSIM" up "$q3" 2>&1)
	st=$?
	ok $([ $st -ne 0 ]; echo $?) "up smq-b fails when /run/netns/$foreign exists"
	like "$out" "/run/netns/$foreign: File exists" "...saying which name is taken"
	is "$(stat -L -c %i /run/netns/$foreign 2>&1)" "$inode" "...and leaves that namespace alone"
	is "$(ls /run/netns | grep '^smq-b' | tr '\n' ' ')" "$foreign " "...removing the ones it made"
	ok $([ ! -e /run/netsim/smq-b ]; echo $?) "...and its state dir"
	ip netns del $foreign
done
FOREIGN=()
ok $("$NETSIM" reach -s smq --timeout 30 >/dev/null 2>&1; echo $?) "smq still works after smq-b's failed ups"
pids=$(node_pids smq; node_pids smq-a)
"$NETSIM" down smq >/dev/null 2>&1 && "$NETSIM" down smq-a >/dev/null 2>&1
ok $? "down smq and smq-a"
# shellcheck disable=SC2086
is "$(settled_leftovers smq $pids; settled_leftovers smq-a)" "" "nothing of either is left"

done_testing
