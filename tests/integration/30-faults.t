#!/bin/bash
# Failures never leave anything behind: a bad topology creates nothing, a node
# whose init fails rolls back the whole `up`, and `down` cleans up after an `up`
# that was killed with SIGKILL at any point.
. "$(dirname "$0")/lib.sh"
need_root
need_meshlite

# --- a topology with errors creates nothing and names file:line -------------
SIM=tbad
cleanup_sim $SIM
f=$(write_topo bad.conf <<'TOPO'
sim tbad
node a
node b
link a c
node a
TOPO
)
fails "$NETSIM" up "$f" "up refuses a topology with errors"
like "$out" "bad.conf:4: " "the error names the file and line of the bad link"
like "$out" "bad.conf:5: " "every error is reported (the duplicate node too)"
is "$(leftovers $SIM)" "" "nothing was created"

# --- a node whose init fails rolls back every node --------------------------
SIM=tinit
cleanup_sim $SIM
f=$(write_topo init.conf <<'TOPO'
sim tinit
node a
node b
node c init=/sbin/no-such-init
link a b
link b c
TOPO
)
fails "$NETSIM" up "$f" "up fails when one node's init cannot start"
like "$out" "node c" "the error names the node"
sleep 0.3
is "$(leftovers $SIM)" "" "the whole up was rolled back"

# --- SIGKILL during up, then down leaves nothing ----------------------------
SIM=tkill
cleanup_sim $SIM
{
	echo "sim tkill"
	for i in $(seq 1 30); do echo "node n$i"; done
	for i in $(seq 1 29); do echo "link n$i n$((i + 1))"; done
} >"$T_TMP/kill.conf"
for delay in 0.01 0.05 0.1 0.2 0.4 0.8; do
	"$NETSIM" up -q "$T_TMP/kill.conf" >/dev/null 2>&1 &
	up_pid=$!
	sleep $delay
	kill -KILL $up_pid 2>/dev/null
	wait $up_pid 2>/dev/null
	pids=$(node_pids $SIM)
	out=$("$NETSIM" down $SIM 2>&1)
	ok $? "down after up was killed at ${delay}s"
	sleep 0.2
	left=$(leftovers $SIM $pids)
	is "$left" "" "nothing left after SIGKILL at ${delay}s"
done

# --- a hostile rootfs tarball cannot get out of the cache --------------------
# (tests/unit/test_rootfs.c tries '..', absolute paths, symlinks and device nodes
# against the extractor; here: a node with a missing rootfs creates nothing)
SIM=trootfs
cleanup_sim $SIM
f=$(write_topo rootfs.conf <<TOPO
sim trootfs
node a rootfs=$T_TMP/missing.tar.gz
TOPO
)
fails "$NETSIM" up "$f" "a missing rootfs tarball fails up"
like "$out" "rootfs.conf:2: node a" "...naming file:line and node"
is "$(leftovers $SIM)" "" "...and nothing was created"

done_testing
