# bash completion for netsim: verbs, each verb's options (read from its --help,
# so they never drift), sim names and node names of running sims (from the state
# directory), and topology files (*.conf).
# Installed by `make install` as /usr/share/bash-completion/completions/netsim.

_netsim_run_dir() { echo "${NETSIM_RUN_DIR:-/run/netsim}"; }

# Running sims: every state directory with a nodes/ subdirectory.
_netsim_sims() {
	local d
	for d in "$(_netsim_run_dir)"/*/nodes; do
		[ -d "$d" ] || continue
		d=${d%/nodes}
		printf '%s\n' "${d##*/}"
	done
}

# Nodes of SIM (or of the only running sim when none is given).
_netsim_nodes() {
	local sim=$1 d
	if [ -z "$sim" ]; then
		local sims
		sims=$(_netsim_sims)
		[ "$(printf '%s\n' "$sims" | grep -c .)" = 1 ] || return
		sim=$sims
	fi
	for d in "$(_netsim_run_dir)/$sim"/nodes/*/; do
		[ -d "$d" ] || continue
		d=${d%/}
		printf '%s\n' "${d##*/}"
	done
}

# Radio segments of SIM (the only running sim when none is given), from its
# topology copy: segment lines with medium=radio.
_netsim_radio_segments() {
	local sim=$1
	if [ -z "$sim" ]; then
		local sims
		sims=$(_netsim_sims)
		[ "$(printf '%s\n' "$sims" | grep -c .)" = 1 ] || return
		sim=$sims
	fi
	awk '$1 == "segment" && / medium=radio/ {print $2}' \
		"$(_netsim_run_dir)/$sim/topology.conf" 2>/dev/null
}

# Options of a verb, from its --help ("  -s, --sim SIM", "      --json").
_netsim_options() {
	"${_netsim_cmd:-netsim}" "$1" --help 2>/dev/null |
		grep -oE '^ +(-[a-zA-Z], )?--[a-z][a-z0-9-]*' | grep -oE '(-[a-zA-Z]|--[a-z0-9-]+)'
	echo --help
}

_netsim_verbs() {
	"${_netsim_cmd:-netsim}" --help 2>/dev/null | awk '/^verbs:/{on=1; next} on && /^  [a-z]/{print $1}'
}

_netsim_files() { # topology files and directories
	local IFS=$'\n'
	COMPREPLY+=($(compgen -f -X "!*${1:-.conf}" -- "$cur") $(compgen -d -S / -- "$cur"))
	compopt -o nospace -o filenames 2>/dev/null
}

_netsim() {
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion -n = || return
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi
	local _netsim_cmd=${words[0]}
	COMPREPLY=()

	if [ "$cword" = 1 ]; then
		COMPREPLY=($(compgen -W "$(_netsim_verbs) --help --version" -- "$cur"))
		return
	fi
	local verb=${words[1]} sim= i operands=() dashdash=0
	# The sim given with -s/--sim, and the operands before the cursor.
	for ((i = 2; i < cword; i++)); do
		case ${words[i]} in
		--) dashdash=1; break ;;
		-s | --sim) sim=${words[i + 1]}; i=$((i + 1)) ;;
		--sim=*) sim=${words[i]#--sim=} ;;
		-n | --name | -o | -w | --timeout | --interval | --count | --over | --sweep) i=$((i + 1)) ;;
		-*) ;;
		*) operands+=("${words[i]}") ;;
		esac
	done

	case $prev in
	-s | --sim) COMPREPLY=($(compgen -W "$(_netsim_sims)" -- "$cur")); return ;;
	-n | --name | --timeout | --interval | --count | --over) return ;;
	--sweep) COMPREPLY=($(compgen -W "all sample" -- "$cur")); return ;;
	-o | -w) _netsim_files ""; return ;;
	esac
	if [ $dashdash = 1 ]; then # exec NODE -- COMMAND
		COMPREPLY=($(compgen -c -- "$cur"))
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_netsim_options "$verb")" -- "$cur"))
		return
	fi
	local n=${#operands[@]}
	case $verb in
	up | run | converge) _netsim_files .conf ;;
	down) COMPREPLY=($(compgen -W "$(_netsim_sims)" -- "$cur")); _netsim_files .conf ;;
	status | list | reach | web) COMPREPLY=($(compgen -W "$(_netsim_sims)" -- "$cur")) ;;
	graph) COMPREPLY=($(compgen -W "$(_netsim_sims)" -- "$cur")); _netsim_files .conf ;;
	exec | shell | log | console | capture | forward | node)
		[ "$n" = 0 ] && COMPREPLY=($(compgen -W "$(_netsim_nodes "$sim")" -- "$cur"))
		# exec: what follows NODE is the command's (docs/cli.md)
		[ "$verb" = exec ] && [ "$n" -ge 1 ] && COMPREPLY=($(compgen -c -- "$cur"))
		[ "$verb" = node ] && [ "$n" = 1 ] &&
			COMPREPLY=($(compgen -W "stop start restart move" -- "$cur"))
		;;
	air)
		case $n in
		0) COMPREPLY=($(compgen -W "$(_netsim_radio_segments "$sim")" -- "$cur")) ;;
		1) COMPREPLY=($(compgen -W "pair" -- "$cur")) ;;
		2 | 3) COMPREPLY=($(compgen -W "$(_netsim_nodes "$sim")" -- "$cur")) ;;
		*) COMPREPLY=($(compgen -W "loss= rate= delay= cut clear" -- "$cur")) ;;
		esac
		;;
	link)
		if [ "$n" -lt 2 ]; then
			COMPREPLY=($(compgen -W "$(_netsim_nodes "$sim")" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "show up down set clear rate= delay= jitter= loss= duplicate= reorder=" -- "$cur"))
		fi
		;;
	gen) [ "$n" = 0 ] && COMPREPLY=($(compgen -W "line ring star grid tree random geo" -- "$cur")) ;;
	import)
		if [ "$n" = 0 ]; then
			COMPREPLY=($(compgen -W "meshnet-lab kathara" -- "$cur"))
		elif [ "${operands[0]}" = kathara ]; then
			_netsim_files lab.conf
		else
			_netsim_files .json
		fi
		;;
	cache) [ "$n" = 0 ] && COMPREPLY=($(compgen -W "list prune" -- "$cur")) ;;
	help) COMPREPLY=($(compgen -W "$(_netsim_verbs)" -- "$cur")) ;;
	esac
}
complete -F _netsim netsim
