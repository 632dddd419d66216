#!/bin/bash
# docs/cli.md holds every verb's --help text verbatim (tests/gen-cli-md.sh writes
# it), so the reference cannot drift from the program.
. "$(dirname "$0")/lib.sh"

verbs=$("$NETSIM" --help | awk '/^verbs:/{on=1; next} on && /^  [a-z]/{print $1}')
[ -n "$verbs" ] || { ok 1 "netsim --help lists verbs"; done_testing; exit 1; }
for verb in $verbs; do
	want=$("$NETSIM" $verb --help | sed 's/^/    /; s/^    $//')
	got=$(awk -v h="## netsim $verb" '$0 == h {on = 1; getline; next} on && /^## / {exit} on' \
		"$TOP/docs/cli.md" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}')
	is "$got" "$want" "docs/cli.md has the --help of netsim $verb"
done
done_testing
