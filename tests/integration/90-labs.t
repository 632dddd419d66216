#!/bin/bash
# The teaching labs (docs/labs/*.md) are executable: every command in their
# ```console blocks runs, and its output matches the page's `# expect:` lines.
#
# Page format (docs/teaching.md, "Writing a lab"):
#   <!-- sim: NAME -->          the sim the page starts; the test runs it as tt-NAME
#   <!-- needs: VERB [OPT] -->  skip the lab unless `netsim VERB --help` works (and
#                               mentions OPT)
#   <!-- needs-file: PATH -->   skip the lab unless PATH (from the source top) exists
#   in ```console blocks:
#   $ COMMAND                   run from the source top; `netsim` is the netsim under
#                               test; must exit 0 unless `# expect-status: N`
#   # expect: REGEX             the command's output (stdout+stderr) matches (grep -E)
#   # within: Ns                repeat the command until the expectations hold, up to N s
#   # skip-if: REGEX            output matching REGEX skips the rest of the lab
#   other lines                 sample output for the reader, not checked
. "$(dirname "$0")/lib.sh"

LABS=$TOP/docs/labs
skip_one() { T_NUM=$((T_NUM + 1)); echo "ok $T_NUM # SKIP $*"; }

# ---- static checks: every lab is indexed, has a topology, and checks output ----
for page in "$LABS"/*.md; do
	name=$(basename "$page")
	grep -q "labs/$name" "$TOP/docs/teaching.md"
	ok $? "docs/teaching.md links to labs/$name"
	sim=$(sed -n 's/^<!-- sim: \([a-z0-9-]*\) -->$/\1/p' "$page")
	[ -n "$sim" ]
	ok $? "$name declares its sim"
	conf=$(grep -o 'netsim up docs/labs/[a-z0-9-]*\.conf' "$page" | head -1 | awk '{print $3}')
	[ -n "$conf" ] && [ -f "$TOP/$conf" ] && grep -q "^sim $sim\$" "$TOP/$conf"
	ok $? "$name starts $conf, which exists and is sim $sim"
	[ "$(grep -c '^# expect: ' "$page")" -ge 3 ]
	ok $? "$name checks output (# expect: lines)"
done
[ "$(ls "$LABS"/*.md | wc -l)" -ge 4 ]
ok $? "at least four labs"

# ---- the manual page: generated from docs/cli.md, one section per verb ----
sh "$TOP/tests/gen-man.sh" >"$T_TMP/netsim.1"
ok $? "tests/gen-man.sh writes netsim.1"
# (tests/integration/11-docs.t checks docs/cli.md against every verb's --help)
sections=$(sed -n 's/^## netsim \([a-z]*\)$/\1/p' "$TOP/docs/cli.md")
missing=
for verb in $sections; do
	grep -qx "\\.SS netsim $verb" "$T_TMP/netsim.1" || missing="$missing $verb"
done
is "$missing" "" "netsim.1 has a section for every verb of docs/cli.md"
if command -v man >/dev/null; then
	warnings=$(MANWIDTH=80 man --warnings -l "$T_TMP/netsim.1" 2>&1 >/dev/null)
	is "$warnings" "" "man renders netsim.1 without warnings"
	like "$(MANWIDTH=80 man -l "$T_TMP/netsim.1" 2>/dev/null)" "usage: netsim up \[-n SIM\]" "...with the verbs' usage lines"
fi

# ---- bash completion, against a fake state directory ----
mkdir -p "$T_TMP/run/sima/nodes/n1" "$T_TMP/run/sima/nodes/n2" "$T_TMP/run/simb/nodes/x1" "$T_TMP/bin"
printf '#!/bin/sh\nexec "%s" "$@"\n' "$NETSIM" >"$T_TMP/bin/netsim"
chmod +x "$T_TMP/bin/netsim"
complete_words() { # WORDS... → the completions, sorted, on one line
	(
		cd "$TOP" && PATH="$T_TMP/bin:$PATH" NETSIM_RUN_DIR="$T_TMP/run" && . netsim/cli/completion.bash &&
			COMP_WORDS=("$@") && COMP_CWORD=$(($# - 1)) && { _netsim; true; } &&
			printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '
	)
}
like "$(complete_words netsim '')" "^(.* )?down .*exec .*import .*up " "verbs"
is "$(complete_words netsim up --)" "--help --json --name --quiet --vm --vm-mem " "options of up, from its --help"
is "$(complete_words netsim exec -s sima '')" "n1 n2 " "node names of the sim given with -s"
is "$(complete_words netsim status '')" "sima simb " "sim names"
like "$(complete_words netsim up topologies/)" "topologies/3node.conf" "topology files"
is "$(complete_words netsim import '')" "kathara meshnet-lab " "import formats"

need_root
need_meshlite

BIN=$T_TMP/bin
mkdir -p "$BIN"
printf '#!/bin/sh\nexec "%s" "$@"\n' "$NETSIM" >"$BIN/netsim"
chmod +x "$BIN/netsim"

# Runs one step: the command, with the sim renamed; repeated while `within` lasts.
# Sets step_out and step_status; returns 0 when status and expectations hold.
run_step() { # CMD STATUS WITHIN EXPECTS...
	local cmd=$1 want_status=$2 within=$3; shift 3
	local deadline=$((SECONDS + within)) good
	while :; do
		step_out=$(cd "$TOP" && PATH="$BIN:$PATH" bash -c "$cmd" 2>&1)
		step_status=$?
		good=0
		[ "$step_status" = "$want_status" ] || good=1
		for re in "$@"; do
			printf '%s\n' "$step_out" | grep -Eq -- "$re" || good=1
		done
		[ $good = 0 ] || [ $SECONDS -ge $deadline ] && return $good
		sleep 1
	done
}

run_lab() { # PAGE
	local page=$1 name sim tsim line cmd=
	name=$(basename "$page" .md)
	sim=$(sed -n 's/^<!-- sim: \([a-z0-9-]*\) -->$/\1/p' "$page")
	tsim=tt-$sim
	# needs
	while read -r verb opt; do
		if ! "$NETSIM" "$verb" --help >"$T_TMP/help" 2>&1 ||
			{ [ -n "$opt" ] && ! grep -q -- "$opt" "$T_TMP/help"; }; then
			skip_one "lab $name: needs \`netsim $verb${opt:+ $opt}\`, which this netsim does not have yet"
			return
		fi
	done < <(sed -n 's/^<!-- needs: \(.*\) -->$/\1/p' "$page")
	while read -r file; do
		if [ ! -e "$TOP/$file" ]; then
			skip_one "lab $name: needs $file, which is not there"
			return
		fi
	done < <(sed -n 's/^<!-- needs-file: \(.*\) -->$/\1/p' "$page")
	cleanup_sim "$tsim"

	# Collect the steps: command, expectations, status, within, skip-if.
	local -a cmds=() expects=() statuses=() withins=() skips=()
	local in=0 n=-1
	while IFS= read -r line; do
		case $line in
		'```console') in=1; continue ;;
		'```'*) in=0; continue ;;
		esac
		[ $in = 1 ] || continue
		case $line in
		'$ '*)
			n=$((n + 1))
			cmd=${line#\$ }
			cmd=$(printf '%s' "$cmd" | sed -E "s/(^|[^a-z0-9-])$sim([^a-z0-9]|\$)/\\1$tsim\\2/g; s/^netsim up /netsim up -n $tsim /")
			cmds[n]=$cmd; expects[n]=; statuses[n]=0; withins[n]=0; skips[n]=
			;;
		'# expect: '*) expects[n]+="${line#\# expect: }"$'\n' ;;
		'# expect-status: '*) statuses[n]=${line#\# expect-status: } ;;
		'# within: '*) withins[n]=${line#\# within: }; withins[n]=${withins[n]%s} ;;
		'# skip-if: '*) skips[n]=${line#\# skip-if: } ;;
		esac
	done <"$page"

	local i re pids=
	for ((i = 0; i <= n; i++)); do
		local -a res=()
		while IFS= read -r re; do
			[ -n "$re" ] && res+=("$(printf '%s' "$re" | sed -E "s/(^|[^a-z0-9-])$sim([^a-z0-9]|\$)/\\1$tsim\\2/g")")
		done <<<"${expects[i]}"
		run_step "${cmds[i]}" "${statuses[i]}" "${withins[i]}" "${res[@]}"
		local st=$?
		if [ -n "${skips[i]}" ] && printf '%s\n' "$step_out" | grep -Eq -- "${skips[i]}"; then
			skip_one "lab $name: $(printf '%s\n' "$step_out" | grep -E -- "${skips[i]}" | head -1)"
			break
		fi
		ok $st "lab $name: \$ ${cmds[i]}"
		if [ $st != 0 ]; then
			echo "#   exit status $step_status (want ${statuses[i]}); output:"
			printf '%s\n' "$step_out" | head -20 | sed 's/^/#     /'
			echo "#   want every one of:"; printf '#     /%s/\n' "${res[@]}"
			break
		fi
		[ -z "$pids" ] && pids=$(node_pids "$tsim")
	done
	"$NETSIM" down "$tsim" >/dev/null 2>&1
	sleep 0.5
	is "$(leftovers "$tsim" $pids)" "" "lab $name: nothing of $tsim remains"
}

# Lab 4 runs on docs/labs/openwrt-rootfs.tar.gz, a link the reader makes to
# their own tarball; here, NETSIM_OPENWRT_ROOTFS or the workspace's fixture.
owrt_link=$LABS/openwrt-rootfs.tar.gz
owrt=${NETSIM_OPENWRT_ROOTFS:-$TOP/../shared/fixtures/openwrt-18.06.4-x86-64-generic-rootfs.tar.gz}
if [ ! -e "$owrt_link" ] && [ -f "$owrt" ]; then
	ln -s "$(realpath "$owrt")" "$owrt_link"
	trap 'rm -f "$owrt_link"; t_cleanup' EXIT
fi

for page in "$LABS"/*.md; do
	run_lab "$page"
done
done_testing
