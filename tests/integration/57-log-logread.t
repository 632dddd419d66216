#!/bin/bash
# `netsim log` of a node whose console is empty shows the node's own `logread`
# (OpenWrt's procd logs to logd).  That program is the node's: a hostile one
# must not reach the operator's terminal with raw control bytes, and it runs
# inside the node (it cannot see the host).
. "$(dirname "$0")/lib.sh"
need_root
need_meshlite

SIM=tlogrd
cleanup_sim $SIM
mkdir -p "$T_TMP/files/sbin"
cat >"$T_TMP/files/sbin/quietinit" <<'EOF'
#!/bin/sh
# an init that writes nothing to the console
exec sleep 100000
EOF
# a "logread" that tries to retitle the operator's terminal and clear it, and
# says which root it sees
cat >"$T_TMP/files/sbin/logread" <<'EOF'
#!/bin/sh
printf 'evil \033]0;pwned\007 \033[2J\r'
ls /run/netsim 2>/dev/null && echo HOST-VISIBLE
echo done
EOF
chmod 755 "$T_TMP/files/sbin/quietinit" "$T_TMP/files/sbin/logread"
topo=$(write_topo logrd.conf <<EOF
sim $SIM
node q files=$T_TMP/files init=/sbin/quietinit
EOF
)
"$NETSIM" up -q "$topo" >/dev/null 2>&1
ok $? "up a node with a silent init and its own logread"
pids=$(node_pids $SIM)

out=$("$NETSIM" log -s $SIM q 2>/dev/null)
ok $? "log falls back to the node's logread"
like "$out" "done" "...and shows what it printed"
ok $(printf '%s' "$out" | LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]'; echo $(($? == 0))) \
	"no raw control byte from the node reaches the terminal"
like "$out" 'evil' "...the text around them is kept (escaped)"
ok $(grep -q HOST-VISIBLE <<<"$out"; echo $(($? == 0))) "logread ran inside the node: no host /run/netsim"
raw=$("$NETSIM" log --raw -s $SIM q 2>/dev/null)
like "$raw" $'\033\\]0;pwned' "log --raw passes the bytes through, as documented"

"$NETSIM" down $SIM >/dev/null 2>&1
ok $? "down"
is "$(settled_leftovers $SIM $pids)" "" "nothing of the sim remains"
done_testing
