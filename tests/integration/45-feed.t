#!/bin/bash
# feed=DIR: a package feed's packages/NAME/files/ laid over the rootfs as overlay
# layers, read live (an edit shows after a restart), clashes reported; hostile
# feeds (a host dir, symlinks out of the feed, a huge tree) and bad input (no
# packages/, a rootfs without init, an init of an unknown architecture) refused
# with one line and nothing created.
. "$(dirname "$0")/lib.sh"
need_root
need_meshlite

FEED=$T_TMP/feed
cp -a "$TOP/tests/data/feed" "$FEED"
SIM=tfeed
cleanup_sim $SIM
topo=$(write_topo feed.conf <<EOF
sim $SIM
defaults feed=$FEED
node a
node b feed=$FEED
link a b
EOF
)
out=$("$NETSIM" up "$topo" 2>&1)
ok $? "up with feed="
like "$out" "notice: feed $FEED: clash: etc/feed-clash: alpha, beta \(beta's is used\)" \
	"the clash between alpha and beta is reported, with the package that wins"
is "$(echo "$out" | grep -c clash)" 1 "one clash line for the two nodes sharing the feed"
is "$("$NETSIM" exec -s $SIM a -- cat /etc/feed-alpha)" alpha "alpha's file is in the node"
is "$("$NETSIM" exec -s $SIM a -- cat /etc/feed-clash)" beta "the clash: beta (laid above alpha) wins"
is "$("$NETSIM" exec -s $SIM b -- feed-hello)" "hello from the feed" "beta's program runs in b"
rec=$(cat /run/netsim/$SIM/nodes/a/feed)
like "$rec" "package alpha $FEED/packages/alpha/files" "the record lists alpha"
like "$rec" "package beta $FEED/packages/beta/files" "and beta, above it"
like "$rec" "clash etc/feed-clash: alpha, beta" "and the clash"
ok $(echo "$rec" | grep -q gamma; echo $((!$?))) "gamma (no files/) is not laid"
is "$("$NETSIM" exec -s $SIM a -- sh -c 'echo x > /etc/feed-alpha && cat /etc/feed-alpha')" x \
	"the node may change a feed file (in its own upper dir)"
is "$(cat "$FEED/packages/alpha/files/etc/feed-alpha")" alpha "the feed itself is unchanged"

# read live: an edit and a new package show after a restart, no copy
echo edited >"$FEED/packages/beta/files/etc/feed-clash"
mkdir -p "$FEED/packages/delta/files/etc"
echo delta >"$FEED/packages/delta/files/etc/feed-delta"
"$NETSIM" node -s $SIM b restart >/dev/null 2>&1
ok $? "restart b"
is "$("$NETSIM" exec -s $SIM b -- cat /etc/feed-clash /etc/feed-delta | tr '\n' ' ')" "edited delta " \
	"after the restart b sees the edit and the new package"
st=$("$NETSIM" status -s $SIM)
like "$st" "ARCH" "status has an ARCH column"
like "$st" "a +running +[0-9]+ +container +x86_64 " "a is x86_64"
like "$("$NETSIM" status -s $SIM --json)" '"arch":"x86_64","arch_detail":"ELF64 little-endian x86-64"' \
	"status --json has arch and arch_detail"
pids=$(node_pids $SIM)
"$NETSIM" down $SIM >/dev/null 2>&1
ok $? "down"
is "$(settled_leftovers $SIM $pids)" "" "nothing of the sim remains"

# ---- hostile and bad feeds, bad rootfs: one line, nothing created ----
cleanup_sim tfeedbad
refused() { # refused DESCRIPTION REGEX ATTRS...
	local what=$1 re=$2; shift 2
	local f o rc
	f=$(printf 'sim tfeedbad\nnode a %s\n' "$*" | write_topo bad.conf)
	o=$("$NETSIM" up "$f" 2>&1)
	rc=$?
	ok $((rc == 0)) "refused: $what"
	like "$o" "$re" "$what: the error says why"
	is "$(echo "$o" | wc -l)" 1 "$what: in one line"
	is "$(leftovers tfeedbad)" "" "$what: nothing created"
}
mkdir -p "$T_TMP/nopkg/files" "$T_TMP/out/packages/x" "$T_TMP/secret/etc" "$T_TMP/up/packages/r"
echo secret >"$T_TMP/secret/etc/secret"
ln -s "$T_TMP/secret" "$T_TMP/out/packages/x/files"
ln -s / "$T_TMP/rootlink"
ln -s / "$T_TMP/up/packages/r/files"
refused "feed without packages/" "feed $T_TMP/nopkg has no packages/ directory \(feed= names the top" \
	"feed=$T_TMP/nopkg"
refused "feed=/etc (a host dir)" "feed=/etc: /etc is the host's /etc" "feed=/etc"
refused "feed=/ through a symlink" "feed=$T_TMP/rootlink: .*host" "feed=$T_TMP/rootlink"
refused "a package's files/ symlinked out of the feed" \
	"packages/x/files resolves to $T_TMP/secret, outside the feed" "feed=$T_TMP/out"
refused "a package's files/ symlinked to /" "packages/r/files resolves to /, outside the feed" \
	"feed=$T_TMP/up"
huge=$T_TMP/huge/packages/big/files
mkdir -p "$huge"
(cd "$huge" && seq 1 200001 | xargs touch)
refused "a feed over 200000 entries" "more than 200000 entries under packages/\*/files" \
	"feed=$T_TMP/huge"
rm -rf "$T_TMP/huge"
mkdir -p "$T_TMP/noinit/bin" "$T_TMP/weird/sbin"
refused "a rootfs without init" "$T_TMP/noinit has no /sbin/init \(give the node init=PATH" \
	"rootfs=$T_TMP/noinit"
printf '\177ELF\001\001\001\000\000\000\000\000\000\000\000\000\002\000\102\102\001\000\000\000' \
	>"$T_TMP/weird/sbin/init"
head -c 40 /dev/zero >>"$T_TMP/weird/sbin/init"
refused "an init of an unknown architecture" \
	"$T_TMP/weird/sbin/init is ELF32 little-endian machine-16962, an architecture netsim does not know" \
	"rootfs=$T_TMP/weird"
refused "feed= on a qemu node" "feed= is only for container nodes" "backend=qemu feed=$FEED"

# symlinks inside files/ are the node's own: they resolve inside the node
mkdir -p "$T_TMP/lnk/packages/p/files/etc"
ln -s /etc/passwd "$T_TMP/lnk/packages/p/files/etc/host-passwd"
SIM2=tfeedln
cleanup_sim $SIM2
f=$(printf 'sim %s\nnode a feed=%s\n' $SIM2 "$T_TMP/lnk" | write_topo lnk.conf)
"$NETSIM" up "$f" >/dev/null 2>&1
ok $? "up with a feed holding a symlink to /etc/passwd"
is "$("$NETSIM" exec -s $SIM2 a -- cat /etc/host-passwd)" "$("$NETSIM" exec -s $SIM2 a -- cat /etc/passwd)" \
	"the symlink resolves to the node's /etc/passwd"
ok $([ "$("$NETSIM" exec -s $SIM2 a -- cat /etc/host-passwd)" != "$(cat /etc/passwd)" ]; echo $?) \
	"not the host's /etc/passwd"
"$NETSIM" down $SIM2 >/dev/null 2>&1
done_testing
