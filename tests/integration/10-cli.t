#!/bin/bash
# Every verb has --help; bad usage gives a clear error and a non-zero exit.
. "$(dirname "$0")/lib.sh"

for verb in up down list status exec shell log reach help; do
	out=$("$NETSIM" $verb --help 2>&1)
	ok $? "netsim $verb --help exits 0"
	like "$out" "^usage: netsim $verb" "netsim $verb --help prints its usage"
done
out=$("$NETSIM" --help 2>&1)
like "$out" "verbs:" "netsim --help lists the verbs"
out=$("$NETSIM" frobnicate 2>&1)
is "$?" 2 "unknown verb exits 2"
like "$out" "unknown verb 'frobnicate'" "unknown verb is named"
out=$("$NETSIM" up 2>&1)
is "$?" 2 "up without a file is a usage error"
out=$("$NETSIM" up /nonexistent/x.conf 2>&1)
like "$out" "^netsim: /nonexistent/x.conf: No such file or directory" "missing topology file"
out=$("$NETSIM" exec 2>&1)
is "$?" 2 "exec without a node is a usage error"
out=$("$NETSIM" reach --timeout abc 2>&1)
is "$?" 2 "reach --timeout wants a number"
out=$(NETSIM_RUN_DIR=$T_TMP/empty "$NETSIM" status 2>&1)
like "$out" "no sim is up" "status with nothing up says so"

# One error format and one exit-status convention (docs/cli.md): main prints the
# verb's error once, a usage error with the verb's usage line after it.
out=$("$NETSIM" gen ring 2>&1)
is "$?" 2 "a usage error exits 2"
is "$out" "netsim: gen: expects SHAPE and SIZE (e.g. \`ring 6\`, \`grid 3x3\`)
usage: netsim $("$NETSIM" gen --help | sed -n 's/^usage: netsim //p')" \
	"...as 'netsim: VERB: REASON' and the usage line, once"
out=$("$NETSIM" help frobnicate 2>&1)
is "$?" 1 "a failure exits 1"
is "$out" "netsim: help: unknown verb 'frobnicate'" "...with one error line"
out=$(NETSIM_RUN_DIR=$T_TMP/empty "$NETSIM" status --json 2>/dev/null)
is "$?" 1 "status --json with nothing up fails..."
is "$out" "" "...and prints no JSON"

# One option parser (docs/cli.md): options anywhere before `--`; -h is --help.
out=$(NETSIM_RUN_DIR=$T_TMP/empty "$NETSIM" status e1nope --json 2>&1)
like "$out" "sim e1nope is not up" "status SIM --json takes the option after the operand"
out=$("$NETSIM" gen line 3 --sim e1x 2>&1 | grep '^sim ')
is "$out" "sim e1x" "gen SHAPE SIZE --sim NAME"
out=$("$NETSIM" gen line -- 3 2>&1 | grep -c '^node ')
is "$out" 3 "operands after -- are operands"
for verb in up down list status exec shell log reach link node capture graph gen converge run \
	console forward web import cache; do
	out=$("$NETSIM" $verb -h 2>&1)
	ok $? "netsim $verb -h exits 0"
	like "$(printf '%s' "$out" | head -1)" "^usage: netsim $verb" "netsim $verb -h prints its usage, no error"
done
out=$("$NETSIM" up --bogus x.conf 2>&1)
is "$out" "netsim: up: unknown option '--bogus'
usage: netsim $("$NETSIM" up --help | sed -n 's/^usage: netsim //p')" "a bad option is one error naming it"
out=$("$NETSIM" status --json=1 2>&1 | head -1)
is "$out" "netsim: status: option takes no value: '--json'" "...and says what is wrong with it"

if [ "$(id -u)" = 0 ] && [ -f "${NETSIM_ROOTFS_DIR:-${NETSIM_BUILD:-$TOP/build}/rootfs}/meshlite.tar.gz" ]; then
	cleanup_sim e1cli
	export NETSIM_CACHE_DIR=$T_TMP/cache  # never prune the machine's cache
	"$NETSIM" gen line 2 > "$T_TMP/e1cli.conf"
	out=$("$NETSIM" up "$T_TMP/e1cli.conf" -n e1cli -q 2>&1)
	ok $? "up FILE -n SIM -q: options after the file"
	like "$out" "1 link," "the summary says 1 link, not 1 links"
	out=$("$NETSIM" status e1cli --json 2>&1)
	like "$out" '"sim": *"e1cli"' "status SIM --json"
	out=$("$NETSIM" exec -s e1cli n1 echo -s x -c 1 2>&1)
	is "$out" "-s x -c 1" "exec: what follows NODE is the command's, options too"
	out=$("$NETSIM" exec -s e1cli n1 -- sh -c 'echo "$0"' -h 2>&1)
	is "$out" "-h" "exec NODE -- CMD: -h after -- is the command's"
	out=$("$NETSIM" forward -s e1cli n1 0:22 --background --json 2>&1)
	ok $? "forward -s S NODE 0:22 --background --json"
	pid=$(printf '%s' "$out" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
	like "$pid" '^[0-9]+$' "...prints JSON with the relay's pid"
	[ -n "$pid" ] && kill "$pid" 2>/dev/null

	# cache prune never removes an entry a running sim's node uses
	unused=$NETSIM_CACHE_DIR/$(printf '0%.0s' $(seq 64))
	mkdir -p "$unused/etc" && head -c 100000 /dev/urandom > "$unused/etc/blob"
	out=$("$NETSIM" cache list 2>&1)
	like "$out" "used by e1cli/n[12]" "cache list names a node that uses the sim's entry"
	like "$out" "0{64} +[0-9.]+ KiB +unused" "...and an unused entry as unused"
	inuse=$(printf '%s\n' "$out" | sed -n 's/^\([0-9a-f]\{64\}\) .*used by.*/\1/p')
	out=$(flock "/run/netsim/e1cli/lock" "$NETSIM" cache prune 2>&1)
	like "$out" "sim e1cli is being changed" "prune refuses while a sim's lock is held..."
	ok $([ -d "$unused" ]; echo $?) "...and removes nothing"
	out=$("$NETSIM" cache prune --dry-run 2>&1)
	like "$out" "would remove 1 entry" "prune --dry-run says what it would remove"
	ok $([ -d "$unused" ]; echo $?) "...and removes nothing"
	out=$("$NETSIM" cache prune 2>&1)
	like "$out" "removed 0{64}  [0-9.]+ KiB" "prune names what it removed, with its size"
	like "$out" "removed 1 entry \([0-9.]+ KiB\), kept 1 in use" "...and sums it up"
	ok $([ ! -e "$unused" ] && [ -n "$inuse" ] && [ -d "$NETSIM_CACHE_DIR/$inuse" ]; echo $?) \
		"the unused entry is gone, the one in use is there"
	out=$("$NETSIM" exec -s e1cli n2 echo still 2>&1)
	is "$out" "still" "...and its node still runs"
	"$NETSIM" down e1cli >/dev/null 2>&1
	out=$("$NETSIM" cache prune 2>&1)
	like "$out" "removed 1 entry .*kept 0 in use" "after down, prune removes it too"
fi

done_testing
