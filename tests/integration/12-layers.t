#!/bin/bash
# The sources keep their layering (tests/check-layers.sh, docs/architecture.md):
# no include points up a layer or sideways.  The check itself is tried first on
# a small tree with one bad include of each kind.  Needs no root.
. "$(dirname "$0")/lib.sh"
check=$TOP/tests/check-layers.sh

# A tree with the real folders and a few headers.
t=$T_TMP/tree
mkdir -p "$t"/netsim/{cli,tools,sim,vm,net,topo} "$t"/runtime "$t"/rootfs/vm
for h in cli/cli tools/reach sim/sim vm/qemu net/netlink topo/topo; do : >"$t/netsim/$h.h"; done
: >"$t/runtime/error.h"; : >"$t/rootfs/vm/agent.h"; : >"$t/rootfs/deb.h"
printf '#include "cli/cli.h"\n#include "sim/sim.h"\n#include "error.h"\n#include <stdio.h>\n' >"$t/netsim/cli/main.c"
printf '#include "net/netlink.h"\n#include "topo/topo.h"\n#include "../../rootfs/vm/agent.h"\n' >"$t/netsim/vm/qemu.c"
printf '#include "deb.h"\n#include "error.h"\n' >"$t/rootfs/deb.c"
out=$("$check" "$t"); ok $? "a well-layered tree passes"
is "$out" "" "and nothing is reported"

bad() { # bad FILE CONTENT EXPECTED-REGEX DESCRIPTION
	local file=$1 content=$2 re=$3; shift 3
	printf '%s\n' "$content" >"$t/$file"
	out=$("$check" "$t")
	[ -n "$out" ]; ok $? "$* is reported"
	like "$out" "$re" "$* is named"
	rm -f "$t/$file"
	"$check" "$t" >/dev/null; ok $? "the tree passes again without it"
}
bad netsim/topo/graph.c '#include "net/netlink.h"' \
	'^netsim/topo/graph.c:1: netsim/topo may not include netsim/net/netlink.h' "an upward include (topo -> net)"
bad netsim/sim/vmsim.c '#include "cli/cli.h"' \
	'^netsim/sim/vmsim.c:1: netsim/sim may not include netsim/cli/cli.h' "sim including the CLI"
bad netsim/vm/agent.c '#include "tools/reach.h"' \
	'netsim/vm may not include netsim/tools/reach.h' "vm including tools"
bad runtime/userns.c '#include "topo/topo.h"' \
	'^runtime/userns.c:1: runtime may not include netsim/topo/topo.h' "runtime naming a netsim header"
bad runtime/mounts.c '#include "../netsim/net/netlink.h"' \
	'runtime may not include netsim/net/netlink.h' "runtime reaching into netsim by path"
bad rootfs/mkrootfs.c '#include "../netsim/sim/sim.h"' \
	'rootfs may not include netsim/sim/sim.h' "rootfs/ using netsim"
bad netsim/net/shape.c '#include "netlink.h"' \
	'name the folder: #include "net/netlink.h"' "a netsim header without its folder"
bad netsim/sim/node.c '#include "sim/nosuch.h"' \
	'"sim/nosuch.h" is no header of this tree' "an include of a missing header"
mkdir -p "$t/netsim/medium"
: >"$t/netsim/medium/engine.h"
bad netsim/medium/engine.c '#include "sim/sim.h"' \
	'netsim/medium may not include netsim/sim/sim.h' "medium/ using sim/ (it sits below it)"
printf '#include "medium/engine.h"\n' >"$t/netsim/sim/radio.c"
out=$("$check" "$t"); ok $? "sim/ using medium/ is fine ($out)"
rm -f "$t/netsim/sim/radio.c"
mkdir -p "$t/netsim/wifi"
bad netsim/wifi/radio.c '#include "topo/topo.h"' \
	'in no known layer' "a folder the rule table does not know"

out=$("$check"); ok $? "this tree keeps its layering"
[ -z "$out" ] || echo "$out" | sed 's/^/#   /'
done_testing
