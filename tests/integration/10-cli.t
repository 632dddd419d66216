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

done_testing
