#!/bin/bash
# netsim import: hand-written meshnet-lab and Kathara inputs translate, every
# field without a netsim equivalent is named on stderr, and the translations come
# up, route (every node reaches every node) and go down leaving nothing.
. "$(dirname "$0")/lib.sh"

DATA=$TOP/tests/data

# ---- translation (no root needed) ----
"$NETSIM" import meshnet-lab "$DATA/meshnet-lab.json" >"$T_TMP/mesh.conf" 2>"$T_TMP/mesh.err"
ok $? "import meshnet-lab exits 0"
err=$(cat "$T_TMP/mesh.err")
like "$err" 'meshnet-lab.json:\$.links\[2\]: not translated: link attribute `source_tc`' "tc command named with its JSON path"
like "$err" 'meshnet-lab.json:\$.links\[1\]: not translated: link attribute `source_tq`' "batman tq named"
like "$err" 'meshnet-lab.json:\$.nodes\[0\]: not translated: node attribute `x` \(4 times' "positions named once, with a count"
like "$err" 'meshnet-lab.json:\$: not translated: top-level key `directed`' "unknown top-level key named"
like "$err" 'meshnet-lab.json:\$.links\[4\]: 1 link repeats a pair of nodes linked before \(here `b`-`a` as at \$.links\[0\]\)' "repeated link named, the last counts"
like "$err" 'meshnet-lab.json:\$.nodes\[5\]: 1 node entry repeats an id listed before \(1 id: `b`\)' "repeated id named"
like "$err" '1 node is not in "nodes" but in links: `f` \(created' "a node only in links named"
like "$err" 'node `Gate_Way` is named `gate-way`' "renamed node named"
printf '%s' "$err" | grep -Eq 'disconnected|in no link'
ok $(($? == 0)) "a connected graph: no note about parts or isolated nodes"
is "$(grep -vc '^netsim import: ' "$T_TMP/mesh.err")" 0 "every stderr line is a 'netsim import:' note"
topo=$(grep -v '^#' "$T_TMP/mesh.conf")
is "$(grep -c '^node ' <<<"$topo")" 6 "six nodes (f only appears in links)"
is "$(grep -c '^link ' <<<"$topo")" 6 "six links (the repeated pair is one)"
like "$topo" 'link 3 gate-way' "integer id 3 and the renamed node are linked"
like "$topo" 'link b a rate=50mbit' "bandwidth_mbit is rate=; the last entry of a pair counts"
like "$topo" 'link gate-way a rate=100mbit' "bandwidth_mbit as a string"

# meshnet-lab's other keys, data errors and --names (translation only)
printf '%s' '{"nodes": [{"id": "a", "name": "Alpha"}, {"id": "b", "name": "alpha"}, {"id": "c"}],
 "links": [{"source": "a", "target": "b", "latency_ms": 5, "loss_pc": 1.5}]}' >"$T_TMP/a-very-long-graph-name.json"
out=$("$NETSIM" import --names meshnet-lab "$T_TMP/a-very-long-graph-name.json" 2>"$T_TMP/names.err")
ok $? "import --names exits 0 despite the data errors"
err=$(cat "$T_TMP/names.err")
like "$out" 'node alpha    # id a, name Alpha' "--names: the node line says id and name"
like "$out" 'link alpha alpha-2 delay=5ms loss=1.5%' "latency_ms and loss_pc are delay= and loss="
like "$err" 'node `b`: its name `alpha` is another node.s already; it is named `alpha-2`' "a name collision is said"
like "$err" '1 node is in no link: `c`' "the isolated node is named"
like "$err" 'the graph is disconnected: 2 parts, of 2, 1 nodes' "the parts' sizes are said"
like "$err" 'is cut to 16 characters: `a-very-long-grap`' "the cut sim name is said"
like "$out" 'sim a-very-long-grap' "...and used"

# kathara/frr runs on meshlite here: the run below checks the graph with
# netsim's own routing (86-kathara.t runs FRR labs)
"$NETSIM" import --image kathara/frr=meshlite kathara "$DATA/kathara/lab.conf" >"$T_TMP/kat.conf" 2>"$T_TMP/kat.err"
ok $? "import kathara exits 0"
err=$(cat "$T_TMP/kat.err")
like "$err" 'lab.conf:12: not translated: r1\[mem\]=256m' "memory limit named"
like "$err" 'lab.conf:15: not translated: MAC address 02:00:00:00:00:01' "MAC named"
like "$err" 'lab.conf:24: not translated: pc4\[sysctl\]' "sysctl named"
like "$err" 'lab.conf:22: not translated: pc3\[ipv6\]=false' "ipv6=false named"
like "$err" 'node `r_2` is named `r-2`' "renamed device named"
topo=$(grep -v '^#' "$T_TMP/kat.conf")
is "$(grep -c '^node ' <<<"$topo")" 6 "six devices"
like "$topo" 'segment CAMPUS_LAN_FLOO r1:eth0 pc1:eth0 pc2:eth0 pc3:eth0 pc4:eth0' "five-device domain is a segment"
like "$topo" 'link r1:eth1 r-2:eth0' "two-device domain is a link, interface N is ethN"
like "$topo" 'segment DMZ r-2:eth1' "one-device domain is a one-member segment"
like "$topo" "node pc1 startup=$DATA/kathara/pc1.startup" "pc1.startup is its startup= (absolute on stdout)"
like "$topo" 'node r1 rootfs=meshlite\b' "--image maps kathara/frr"
out=$("$NETSIM" import kathara "$DATA/kathara/lab.conf" 2>/dev/null)
like "$out" 'node r1 rootfs=frr caps=\+sys_admin' "without --image kathara/frr is the frr rootfs"
"$NETSIM" import --image kathara/frr=meshlite kathara "$DATA/kathara" >"$T_TMP/kat2.conf" 2>/dev/null
is "$(cat "$T_TMP/kat2.conf" | grep -v '^#')" "$topo" "the lab directory works like its lab.conf"

printf '{"links": [{"source": "a", "target": "b"}\n' >"$T_TMP/bad.json"
out=$("$NETSIM" import meshnet-lab "$T_TMP/bad.json" 2>&1)
is $? 1 "malformed JSON: exit 1"
like "$out" 'bad.json:2:1: malformed JSON' "...with file:line:column"
printf 'r1[0]=A\nr1 eth0 A\n' >"$T_TMP/lab.conf"
out=$("$NETSIM" import kathara "$T_TMP/lab.conf" 2>&1)
is $? 1 "malformed lab.conf: exit 1"
like "$out" 'lab.conf:2: expected DEVICE\[N\]=DOMAIN' "...with file:line"
"$NETSIM" import gns3 x >/dev/null 2>&1
is $? 2 "unknown format: usage error"

# --radio: one radio segment, a pair line per link, no veth per link
"$NETSIM" import --radio meshnet-lab "$DATA/meshnet-lab.json" >"$T_TMP/radio.conf" 2>"$T_TMP/radio.err"
ok $? "import --radio exits 0"
like "$(cat "$T_TMP/radio.err")" 'imported as one radio segment air0 \(--radio\)' "--radio says which form it chose"
ok $(grep -q '^link ' "$T_TMP/radio.conf"; echo $(($? == 0))) "--radio writes no link lines"
is "$(grep -c '^pair air0 ' "$T_TMP/radio.conf")" "$(grep -c '^link ' "$T_TMP/mesh.conf")" \
	"--radio: one pair line per link of the veth form"
like "$(grep '^segment air0' "$T_TMP/radio.conf")" ' medium=radio ' "--radio: the segment is a radio one"

# ---- the translations run ----
if [ "$(id -u)" != 0 ] || [ ! -f "${NETSIM_ROOTFS_DIR:-${NETSIM_BUILD:-$TOP/build}/rootfs}/meshlite.tar.gz" ]; then
	echo "# SKIP running the translations: needs root and the meshlite rootfs"
	done_testing
	exit
fi
# The graph is what runs here: pc1.startup's own LAN address would become the
# source of pc1's probes to netsim's addresses, which nothing announces.
sed -i 's| startup=[^ ]*||' "$T_TMP/kat.conf"
for kind in mesh kat radio; do
	SIM=tt-imp-$kind
	cleanup_sim $SIM
	out=$("$NETSIM" up -n $SIM "$T_TMP/$kind.conf" 2>&1)
	ok $? "up the $kind translation as $SIM"
	like "$out" "sim $SIM up: 6 nodes" "...with its six nodes"
	pids=$(node_pids $SIM)
	out=$("$NETSIM" reach -s $SIM --timeout 60 2>&1)
	ok $? "reach: every node of the $kind translation reaches every other"
	like "$out" "30/30 pairs" "...30/30 pairs"
	"$NETSIM" down $SIM >/dev/null 2>&1
	ok $? "down $SIM"
	sleep 0.5
	is "$(leftovers $SIM $pids)" "" "nothing of $SIM remains"
done
done_testing
