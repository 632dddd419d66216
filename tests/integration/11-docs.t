#!/bin/bash
# docs/cli.md holds every verb's --help text verbatim, so the reference cannot
# drift from the program.
. "$(dirname "$0")/lib.sh"

for verb in up down list status exec shell log reach help; do
	want=$("$NETSIM" $verb --help | sed 's/^/    /; s/^    $//')
	got=$(awk -v h="## netsim $verb" '$0 == h {on = 1; getline; next} on && /^## / {exit} on' \
		"$TOP/docs/cli.md" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}')
	is "$got" "$want" "docs/cli.md has the --help of netsim $verb"
done
done_testing
