#!/bin/bash
# The layering of the sources (docs/architecture.md), checked over #include lines:
#
#     cli -> tools -> sim -> medium/vm -> net -> topo -> runtime
#
# A folder may include its own headers and those of the folders below it, never
# one above it or beside it; runtime/ includes only runtime/, rootfs/ only itself
# and runtime/.  Inside netsim/ a netsim header is named with its folder
# ("topo/topo.h", resolved through -Inetsim), so every #include line shows the
# layer it uses; a bare name is a runtime header (-Iruntime).
#
# usage: tests/check-layers.sh [TOP]   (TOP: the source tree, default: this one)
# Prints one line per bad include ("FILE:LINE: ...") and exits 1 when there is any.
set -u
top=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top" || exit 2

# What each folder may include (besides system headers).  The vm entry names the
# guest agent's wire protocol, shared with rootfs/vm/agent.c.
declare -A allowed=(
	[netsim/cli]="netsim/cli netsim/tools netsim/sim netsim/medium netsim/vm netsim/net netsim/topo runtime"
	[netsim/tools]="netsim/tools netsim/sim netsim/medium netsim/vm netsim/net netsim/topo runtime"
	[netsim/sim]="netsim/sim netsim/medium netsim/vm netsim/net netsim/topo runtime"
	[netsim/medium]="netsim/medium netsim/net netsim/topo runtime"
	[netsim/vm]="netsim/vm netsim/net netsim/topo runtime rootfs/vm"
	[netsim/net]="netsim/net netsim/topo runtime"
	[netsim/topo]="netsim/topo runtime"
	[runtime]="runtime"
	[rootfs]="rootfs runtime"
	[rootfs/vm]="rootfs/vm"
)

bad=0
report() { echo "$1"; bad=$((bad + 1)); }

# Folder of a normalised path: netsim/LAYER, runtime, rootfs or rootfs/vm.
folder_of() {
	case $1 in
	netsim/*/*) local rest=${1#netsim/}; echo "netsim/${rest%%/*}" ;;
	*/*) dirname "$1" ;;
	*) echo "." ;;
	esac
}

while IFS= read -r file; do
	dir=$(dirname "$file")
	from=$(folder_of "$file")
	if [ -z "${allowed[$from]+x}" ]; then
		report "$file: in no known layer (add its folder to tests/check-layers.sh and docs/architecture.md)"
		continue
	fi
	while IFS=: read -r line inc; do
		target=
		same_dir=false
		if [ -f "$dir/$inc" ]; then
			target=$(realpath -m --relative-to=. "$dir/$inc")
			same_dir=true
		else
			for i in netsim runtime; do
				[ -f "$i/$inc" ] && { target=$(realpath -m --relative-to=. "$i/$inc"); break; }
			done
		fi
		if [ -z "$target" ]; then
			report "$file:$line: \"$inc\" is no header of this tree"
			continue
		fi
		to=$(folder_of "$target")
		case " ${allowed[$from]} " in
		*" $to "*) ;;
		*) report "$file:$line: $from may not include $target (it may use: ${allowed[$from]})"
		   continue ;;
		esac
		if [ "${from%%/*}" = netsim ] && [ "${to%%/*}" = netsim ] && $same_dir &&
		   [ "$inc" = "$(basename "$inc")" ]; then
			report "$file:$line: name the folder: #include \"${target#netsim/}\""
		fi
	done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" |
		 sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1:\2/')
done < <(find netsim runtime rootfs -name '*.[ch]' 2>/dev/null | sort)

[ "$bad" -eq 0 ]
