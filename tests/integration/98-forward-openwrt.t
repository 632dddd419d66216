#!/bin/bash
# netsim forward to the web UI of an OpenWrt node in both backends: the OpenWrt
# 18.06 fixture's uhttpd serves LuCI in a container node and in a backend=qemu
# node (TCG), reached through `forward` from the host's 127.0.0.1, several
# connections at once; two forwards of one VM at once; `down` stops them.
. "$(dirname "$0")/lib.sh"
need_root
command -v curl >/dev/null || skip_all "curl not installed"
command -v qemu-system-x86_64 >/dev/null ||
	skip_all "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"
FIXTURE=$TOP/../shared/fixtures/openwrt-18.06.4-x86-64-generic-rootfs.tar.gz
[ -f "$FIXTURE" ] || skip_all "OpenWrt fixture not found at $FIXTURE"
BUILD_DIR=$(cd "$(dirname "$NETSIM")" && pwd)
make -C "$TOP" BUILD="$BUILD_DIR" kernel >"$T_TMP/make.log" 2>&1 ||
	skip_all "make kernel failed (no Debian mirror?): $(tail -n 1 "$T_TMP/make.log")"
export NETSIM_KERNEL_DIR=$BUILD_DIR/kernel
export NETSIM_QEMU_ACCEL=tcg

SIM=q1fwd
cleanup_sim $SIM

topo=$(write_topo $SIM.conf <<EOF
defaults rootfs=$FIXTURE
node c1
node v1 backend=qemu
link c1 v1
EOF
)
"$NETSIM" up -q -n $SIM "$topo" >"$T_TMP/up.log" 2>&1
ok $? "up: OpenWrt 18.06 in a container (c1) and in a VM (v1)" || cat "$T_TMP/up.log"

# uhttpd starts from procd's rc.d once the node has booted.
wait_uhttpd() { # NODE
	for _ in $(seq 1 60); do
		"$NETSIM" exec -s $SIM "$1" -- sh -c 'pidof uhttpd' >/dev/null 2>&1 && return 0
		sleep 1
	done
	return 1
}
port_of() { sed -n 's/^forward: 127\.0\.0\.1:\([0-9]*\) -> .*/\1/p' <<<"$1"; }

for node in c1 v1; do
	wait_uhttpd $node
	ok $? "$node: uhttpd runs"
	out=$("$NETSIM" forward -s $SIM $node 0:80 --background 2>&1)
	ok $? "$node: forward 0:80 --background"
	like "$out" "^  open http://127\.0\.0\.1:[0-9]+/$" "$node: ...prints the URL ($out)"
	port=$(port_of "$out")
	page=$(curl -s -m 20 "http://127.0.0.1:$port/cgi-bin/luci/" 2>&1)
	like "$page" 'LuCI|luci' "$node: LuCI answers through the forward"
	# Several at once, as a browser opens them.
	pids=()
	for i in 1 2 3 4 5 6; do
		curl -s -m 30 -o "$T_TMP/$node.$i" -w '%{http_code}\n' \
			"http://127.0.0.1:$port/luci-static/resources/cbi.js" >"$T_TMP/$node.$i.code" &
		pids+=($!)
	done
	wait "${pids[@]}"
	good=0
	for i in 1 2 3 4 5 6; do
		[ "$(cat "$T_TMP/$node.$i.code")" = 200 ] &&
			cmp -s "$T_TMP/$node.1" "$T_TMP/$node.$i" && [ -s "$T_TMP/$node.$i" ] &&
			good=$((good + 1))
	done
	is "$good" 6 "$node: 6 parallel fetches of cbi.js ($(stat -c %s "$T_TMP/$node.1") bytes), all 200 and the same"
	eval "port_$node=$port"
done

# A VM holds several forwards: a second one to another port.
out=$("$NETSIM" forward -s $SIM v1 0:22 --background 2>&1)
ok $? "v1: a second forward (ssh, port 22) while the first runs"
like "$out" "ssh -p [0-9]+ root@127\.0\.0\.1" "...prints the ssh command"
port22=$(port_of "$out")
# dropbear makes its host keys on first start: slow under TCG.
for _ in $(seq 1 60); do
	banner=$(timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port22; head -c 7 <&3" 2>&1)
	[ "$banner" = SSH-2.0 ] && break
	sleep 1
done
is "$banner" "SSH-2.0" "v1: dropbear's banner through the second forward"
[ "$banner" = SSH-2.0 ] ||
	"$NETSIM" exec -s $SIM v1 -- sh -c 'ps w | grep -i [d]ropbear; netstat -ltn' | sed 's/^/# /' 
page=$(curl -s -m 20 "http://127.0.0.1:$port_v1/cgi-bin/luci/" 2>&1)
like "$page" 'LuCI|luci' "v1: the first forward still serves"

# A port nothing listens on: the connection closes at once, the relay lives on.
out=$("$NETSIM" forward -s $SIM v1 0:9 --background 2>&1)
port9=$(port_of "$out")
start=$(date +%s)
curl -s -m 10 "http://127.0.0.1:$port9/" >/dev/null 2>&1
ok $(( $(date +%s) - start < 5 ? 0 : 1 )) "v1: a refused node port closes the connection at once"
curl -s -m 20 "http://127.0.0.1:$port_v1/" >/dev/null
ok $? "...and the web UI's forward still answers"

"$NETSIM" down $SIM >/dev/null 2>&1
ok $? "down"
sleep 1
is "$(ss -Htln "sport = :$port_v1 or sport = :$port_c1 or sport = :$port22" 2>/dev/null)" "" \
	"down stopped every forward"
done_testing
