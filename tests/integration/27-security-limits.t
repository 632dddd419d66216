#!/bin/bash
# Resource limits (docs/security.md, "Resource limits"): a node attacks the
# host's processes, memory, CPU priority and tmpfs space from inside; each attack
# stops at the node's cgroup or tmpfs size, and the host and the other nodes keep
# working.  Also: mem=/pids=/cpu= reach the cgroup files, bad values create
# nothing, status shows usage, and no cgroup outlives down or a failed up.
. "$(dirname "$0")/lib.sh"
need_root
need_meshlite

HELPER=${NETSIM_BUILD:-$TOP/build}/tests/limits-attack
[ -x "$HELPER" ] || skip_all "$HELPER not built (make)"

# A controller's hierarchy: the v1 one it is bound to, else the unified one.
cg_root() { # CONTROLLER
	local v1
	v1=$(awk -v c="$1" '$3 == "cgroup" && ("," $4 ",") ~ ("," c ",") {print $2; exit}' /proc/mounts)
	if [ -n "$v1" ]; then echo "$v1"; else awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts; fi
}
cg_v1() { awk -v c="$1" '$3 == "cgroup" && ("," $4 ",") ~ ("," c ",") {f=1} END {exit !f}' /proc/mounts; }
MEM=$(cg_root memory) PIDS=$(cg_root pids) CPU=$(cg_root cpu)
if cg_v1 memory; then MEM_MAX=memory.limit_in_bytes; else MEM_MAX=memory.max; fi
if cg_v1 cpu; then CPU_WEIGHT=cpu.shares W200=2048; else CPU_WEIGHT=cpu.weight W200=200; fi
[ -n "$MEM" ] && [ -n "$PIDS" ] || skip_all "the host has no memory or pids cgroup controller"

# Every cgroup directory of SIM, in any hierarchy.
sim_cgroups() { find /sys/fs/cgroup -maxdepth 4 -path "*/netsim/$1" 2>/dev/null; }

SIM=sl3
cleanup_sim $SIM
topo=$(write_topo sl3.conf <<EOF
sim $SIM
node n1
node n2 mem=64M pids=32 cpu=200
node n3 mem=1G disk=128M
link n1 n2
link n2 n3
EOF
)
"$NETSIM" up -q "$topo" >/dev/null 2>&1
ok $? "up $SIM"
pids=($(node_pids $SIM))

# ---- cgroups and their limits --------------------------------------------
is "$(cat $MEM/netsim/$SIM/n1/$MEM_MAX 2>&1)" $((256 << 20)) "n1: default memory limit 256M"
is "$(cat $PIDS/netsim/$SIM/n1/pids.max 2>&1)" 512 "n1: default pids.max 512"
is "$(cat $MEM/netsim/$SIM/n2/$MEM_MAX 2>&1)" $((64 << 20)) "n2: mem=64M applied"
is "$(cat $PIDS/netsim/$SIM/n2/pids.max 2>&1)" 32 "n2: pids=32 applied"
is "$(cat $CPU/netsim/$SIM/n2/$CPU_WEIGHT 2>&1)" $W200 "n2: cpu=200 applied ($CPU_WEIGHT)"
is "$(cat $MEM/netsim/$SIM/n3/$MEM_MAX 2>&1)" $((1024 << 20)) "n3: mem=1G applied"
total=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) * 1024))
sim_mem=$(cat $MEM/netsim/$SIM/$MEM_MAX 2>&1)
ok $([ "$sim_mem" -lt "$total" ] 2>/dev/null; echo $?) "the sim's memory cap ($sim_mem) is below the host's ($total)"
if cg_v1 cpu; then quota=$(cat $CPU/netsim/$SIM/cpu.cfs_quota_us); else quota=$(awk '{print $1}' $CPU/netsim/$SIM/cpu.max); fi
ok $([ "$quota" -gt 0 ] && [ "$quota" -lt $(($(nproc) * 100000)) ] 2>/dev/null; echo $?) \
	"the sim's CPU quota ($quota us per 100 ms) is below the host's $(nproc) CPUs"
like "$(cat /proc/${pids[0]}/cgroup 2>&1)" "memory:/netsim/$SIM/n1|0::/netsim/$SIM/n1" "n1's PID 1 is in its cgroup"
like "$("$NETSIM" exec -s $SIM n1 -- cat /proc/self/cgroup 2>&1)" "pids:/netsim/$SIM/n1|0::/netsim/$SIM/n1" \
	"netsim exec runs in the node's cgroup"

for n in n1 n2 n3; do
	"$NETSIM" exec -s $SIM $n -- sh -c 'cat > /tmp/la && chmod +x /tmp/la' <"$HELPER"
done
ok $? "copy the attack helper into the nodes"

# ---- fork bomb --------------------------------------------------------------
out=$("$NETSIM" exec -s $SIM n1 -- /tmp/la forkbomb 2>&1)
like "$out" "forked [0-9]+ \(stopped by: Resource temporarily unavailable\)" "fork bomb in n1 is refused ($out)"
made=$(echo "$out" | sed -n 's/^forked \([0-9]*\).*/\1/p')
ok $([ "${made:-9999}" -lt 512 ]; echo $?) "it stopped below pids.max 512 ($made)"
ok $(sh -c 'true'; echo $?) "the host still forks"
is "$("$NETSIM" exec -s $SIM n3 -- echo alive 2>&1)" alive "n3 still runs commands"
is "$("$NETSIM" exec -s $SIM n1 -- echo alive 2>&1)" alive "n1 runs commands again after its bomb"

# ---- memory hog -------------------------------------------------------------
"$NETSIM" exec -s $SIM n2 -- /tmp/la hog >/dev/null 2>&1
is $? 137 "memory hog in n2 is killed (SIGKILL)"
like "$("$NETSIM" status $SIM 2>&1)" "n2 +running .* [0-9.]+[KM]?/64M +[0-9]+/32 +[0-9.]+s +[1-9]" \
	"status: n2 still running, its limits and an OOM kill"
like "$("$NETSIM" status $SIM 2>&1)" "n3 +running .* 0 +/" "status: no OOM kill in n3"
json=$("$NETSIM" status --json $SIM 2>&1)
like "$json" '"name":"n2",([^{}]|\{[^{}]*\})*"memory":\{"current":[0-9]+,"max":67108864,"oom_kills":[1-9]' \
	"status --json: n2's memory limit and OOM kills"
like "$json" '"name":"n1",([^{}]|\{[^{}]*\})*"pids":\{"current":[0-9]+,"max":512\},"cpu_usec":[0-9]+' \
	"status --json: pids and CPU time"
ok $([ -e /proc/${pids[0]} ] && [ -e /proc/${pids[2]} ]; echo $?) "n1's and n3's PID 1 survived"
is "$("$NETSIM" exec -s $SIM n2 -- echo alive 2>&1)" alive "n2 runs commands after the OOM kill"
out=$("$NETSIM" reach -s $SIM --timeout 60 2>&1)
ok $? "the mesh still converges: every node reaches every node ($(echo "$out" | tail -1))"

# ---- ptys (counted host-wide by the kernel) ------------------------------------
like "$("$NETSIM" exec -s $SIM n1 -- /tmp/la ptys 100 2>&1)" "^ptys 64 \(stopped by: No space left on device\)" \
	"a node opens at most 64 ptys (devpts max=64), not the host's pool"
like "$("$NETSIM" exec -t -s $SIM n1 -- tty </dev/null 2>&1)" "/dev/pts/[0-9]" "exec -t still gets a pty afterwards"

# ---- priorities and locked memory --------------------------------------------
out=$("$NETSIM" exec -s $SIM n1 -- /tmp/la sched 2>&1)
like "$out" "nice-20 refused" "nice -20 is refused in a node"
like "$out" "sched_fifo refused" "a realtime priority (SCHED_FIFO) is refused"
like "$out" "raise_rtprio refused" "raising RLIMIT_RTPRIO is refused"
like "$out" "raise_nice refused" "raising RLIMIT_NICE is refused"
like "$("$NETSIM" exec -s $SIM n1 -- /tmp/la mlock 16 2>&1)" "mlock refused" "mlock of 16 MiB (> RLIMIT_MEMLOCK) is refused"
like "$("$NETSIM" exec -s $SIM n1 -- /tmp/la mlock 4 2>&1)" "mlock ok" "mlock of 4 MiB (<= RLIMIT_MEMLOCK) works"
capeff=$("$NETSIM" exec -s $SIM n1 -- awk '/^CapEff/ {print $2}' /proc/1/status 2>&1)
ok $(( (0x$capeff >> 23 & 1) | (0x$capeff >> 14 & 1) | (0x$capeff >> 24 & 1) )) \
	"PID 1 has none of SYS_NICE, IPC_LOCK, SYS_RESOURCE ($capeff)"

# ---- CPU: busy node processes share one node's weight ------------------------
# 8 busy processes of n1 on CPU 0 next to one host loop on CPU 0: without the
# node's cgroup the host loop would get 1/9 of the CPU (11% measured on main);
# with it, the node competes as one group and the host loop gets about half.
host_loop_share() { # percent of CPU 0 a host busy loop gets over 3 s
	taskset -c 0 sh -c 'while :; do :; done' &
	local hp=$! t0 t1
	sleep 0.5
	t0=$(awk '{print $14 + $15}' /proc/$hp/stat)
	sleep 3
	t1=$(awk '{print $14 + $15}' /proc/$hp/stat)
	kill $hp
	wait $hp 2>/dev/null
	echo $(((t1 - t0) * 100 / $(getconf CLK_TCK) / 3))
}
if command -v taskset >/dev/null; then
	# relative to the loop alone, so other load on a shared machine cancels out
	alone=$(host_loop_share)
	"$NETSIM" exec -s $SIM n1 -- /tmp/la spin 8 5 >/dev/null 2>&1 &
	spinner=$!
	sleep 0.3
	share=$(host_loop_share)
	wait $spinner
	ok $([ $((share * 100)) -ge $((alone * 40)) ]; echo $?) \
		"a host loop keeps its share of CPU 0 next to 8 busy node processes (${share}%, alone ${alone}%)"
else
	ok 0 "# SKIP taskset (util-linux) missing: CPU share not measured"
fi

# ---- tmpfs sizes ----------------------------------------------------------------
fill() { # NODE FILE: MiB written before the write failed, and why
	"$NETSIM" exec -s $SIM "$1" -- sh -c "dd if=/dev/zero of=$2 bs=1M count=2048 2>&1; rm -f $2" |
		awk '/records out/ {split($1, a, "+"); n = a[1]} /No space/ {why = "ENOSPC"} END {print n, why}'
}
for spec in /tmp:64 /run:16 /dev/shm:16; do
	dir=${spec%:*} size=${spec#*:}
	got=$(fill n3 $dir/fill)
	like "$got" "^[0-9]+ ENOSPC$" "filling $dir stops with ENOSPC ($got MiB)"
	ok $([ "${got% *}" -le "$size" ]; echo $?) "$dir holds at most its size=${size}m"
done
# the sim's upper-dir tmpfs: 64 MiB for n1 and n2 each, disk=128M for n3, 64 MiB slack
like "$(grep " /run/netsim/$SIM/nodes " /proc/mounts)" "size=$((320 * 1024))k" \
	"the sim's upper-dir tmpfs is 320 MiB (64 + 64 + disk=128M + 64)"
got=$(fill n3 /root/big)
like "$got" "^[0-9]+ ENOSPC$" "a big file in the overlay stops with ENOSPC ($got MiB)"
ok $([ "${got% *}" -le 320 ] && [ "${got% *}" -gt 256 ]; echo $?) \
	"at the sim's upper-dir tmpfs size, which n3's disk= raised"
is "$("$NETSIM" exec -s $SIM n3 -- echo alive 2>&1)" alive "n3 runs commands after the fills"

# ---- node stop / start ----------------------------------------------------------
"$NETSIM" node -s $SIM n2 stop >/dev/null 2>&1
ok $? "node n2 stop"
ok $([ ! -e $PIDS/netsim/$SIM/n2 ] && [ ! -e $MEM/netsim/$SIM/n2 ]; echo $?) "n2's cgroups are gone"
like "$("$NETSIM" status $SIM 2>&1)" "n2 +stopped +0 +container +x86_64 +[0-9./]+ +- +- +- +-" "status: no usage for a stopped node"
"$NETSIM" node -s $SIM n2 start >/dev/null 2>&1
ok $? "node n2 start"
is "$(cat $PIDS/netsim/$SIM/n2/pids.max 2>&1)" 32 "n2's cgroup is back with pids=32"
pids+=($(node_pids $SIM))

# ---- down -------------------------------------------------------------------------
"$NETSIM" down $SIM >/dev/null 2>&1
ok $? "down $SIM"
is "$(sim_cgroups $SIM)" "" "no cgroup of $SIM remains"
is "$(settled_leftovers $SIM "${pids[@]}")" "" "nothing else of $SIM remains"

# ---- bad values: file:line, nothing created ------------------------------------------
SIM2=sl4
cleanup_sim $SIM2
for bad in "mem=0:mem=0: give MiB or GiB" "pids=2:pids=2: give a number of processes from 8" \
	"cpu=0:cpu=0: give a CPU weight from 1 to 10000"; do
	attr=${bad%%:*} want=${bad#*:}
	topo=$(write_topo sl4.conf <<EOF
sim $SIM2
node n1
node n2 $attr
EOF
)
	fails "$NETSIM" up -q "$topo" "up refuses $attr"
	like "$out" "sl4.conf:3: $want" "error names file:line for $attr"
	is "$(sim_cgroups $SIM2)$(leftovers $SIM2)" "" "nothing created for $attr"
done

# ---- failed up: the rollback removes the sim's cgroups ------------------------------
topo=$(write_topo sl4.conf <<EOF
sim $SIM2
node n1
node n2 init=/no/such/init
link n1 n2
EOF
)
fails "$NETSIM" up -q "$topo" "up with a missing init fails"
is "$(sim_cgroups $SIM2)" "" "no cgroup of $SIM2 remains after the failed up"
is "$(settled_leftovers $SIM2)" "" "nothing else of $SIM2 remains"

# ---- a left-over cgroup of the name is neither reused nor removed ----------------
SIM3=sl5
cleanup_sim $SIM3
mkdir -p "$PIDS/netsim/$SIM3"
topo=$(write_topo sl5.conf <<EOF
sim $SIM3
node n1
EOF
)
fails "$NETSIM" up -q "$topo" "up refuses a sim whose cgroup is left over"
like "$out" "cgroup netsim/$SIM3 is left over" "and says so ($out)"
ok $([ -d "$PIDS/netsim/$SIM3" ]; echo $?) "the failed up did not remove that cgroup"
"$NETSIM" down $SIM3 >/dev/null 2>&1
ok $? "down $SIM3"
is "$(sim_cgroups $SIM3)$(leftovers $SIM3)" "" "down removed the left-over cgroup"

done_testing
