#!/bin/bash
# Regenerate docs/cli.md's per-verb sections from `netsim VERB --help`, so the
# reference and the program cannot drift (tests/integration/11-docs.t checks it).
#   tests/gen-cli-md.sh [path/to/netsim]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
netsim=${1:-$top/build/netsim}
out=$top/docs/cli.md
verbs=$("$netsim" --help | awk '/^verbs:/{on=1; next} on && /^  [a-z]/{print $1}')
{
	# Everything up to the first verb section is hand-written; keep it.
	awk '/^## netsim /{exit} {print}' "$out"
	for v in $verbs; do
		echo "## netsim $v"
		echo
		"$netsim" "$v" --help | sed 's/^/    /; s/^    $//'
		echo
	done
	# ...and so is everything from the first section after the verbs.
	awk '/^## netsim /{verbs=1; next} verbs && /^## / && !/^## netsim /{on=1} on {print}' "$out"
} >"$out.tmp"
mv "$out.tmp" "$out"
