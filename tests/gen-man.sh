#!/bin/sh
# Generate the netsim(1) manual page (roff, man macros) from docs/cli.md, which
# tests/gen-cli-md.sh builds from every verb's --help: one source, so the man
# page, the reference and the program agree.  `make install` runs this.
#   tests/gen-man.sh [docs/cli.md] > netsim.1
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
src=${1:-$top/docs/cli.md}
version=$(sed -n 's/^#define NETSIM_VERSION "\(.*\)"$/\1/p' "$top/netsim/cli/main.c")
awk -v version="${version:-unknown}" '
# roff-safe text: backslashes, hyphens, and no control character at line start.
function esc(s) {
	gsub(/\\/, "\\e", s)
	gsub(/-/, "\\-", s)
	if (s ~ /^[.\047]/) s = "\\&" s
	return s
}
# Inline markdown: `code` in bold, the rest plain.
function inline(s,    out, parts, n, i) {
	n = split(s, parts, "`")
	out = ""
	for (i = 1; i <= n; i++)
		out = out (i % 2 == 0 ? "\\fB" esc(parts[i]) "\\fR" : esc(parts[i]))
	if (out ~ /^[.\047]/) out = "\\&" out
	return out
}
function end_pre() { if (pre) { print ".fi"; print ".RE"; pre = 0 } }
BEGIN {
	print ".TH NETSIM 1 \"\" \"netsim " version "\" \"User Commands\""
	print ".SH NAME"
	print "netsim \\- run a mesh network of routers (containers) on one Linux machine"
	section = ""
}
/^# / { next }                        # the title: NAME above says it
/^$/ { blanks++; next }
/^## / {
	end_pre()
	title = substr($0, 4)
	if (title ~ /^netsim /) {
		if (!commands) { print ".SH COMMANDS"; commands = 1 }
		print ".SS " esc(title)
	} else {
		print ".SH " toupper(esc(title))
	}
	section = title; blanks = 0; text = 0
	next
}
/^    / {
	if (pre) {
		for (; blanks > 0; blanks--) print ""
	} else {
		if (section == "" && !synopsis) { print ".SH SYNOPSIS"; synopsis = 1 }
		print ".RS 4"; print ".nf"; pre = 1
	}
	blanks = 0
	print esc(substr($0, 5))
	next
}
{
	if (pre) end_pre()
	else if (blanks && text) print ".PP"
	if (section == "" && !description) { print ".SH DESCRIPTION"; description = 1 }
	blanks = 0; text = 1
	if ($0 ~ /^- /) { print ".IP \\(bu 2"; print inline(substr($0, 3)) }
	else print inline($0)
}
END { end_pre() }
' "$src"
