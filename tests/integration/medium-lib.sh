# Hand-made namespaces for the medium engine (58-medium.t, tests/bench/air.sh):
# a switch namespace PREFIX-sw and one namespace per member PREFIX-NODE, each
# with eth0 whose veth peer in the switch namespace is s<SEG>-<MEMBER>, as
# sim_segment_port names it.  medium_cleanup removes all of it (and a medium
# started with medium_start), also after a half-made setup.

MEDIUM_PREFIX=${MEDIUM_PREFIX:-m1}
MEDIUM_PID=
MEDIUM_NS=()
MEDIUM_DRIVER=${MEDIUM_DRIVER:-${NETSIM_BUILD:-$TOP/build}/tests/medium-driver}
MEDIUM_SOCK=

medium_ns() { # medium_ns NAME: create netns PREFIX-NAME with lo up and no IPv6
	local ns=$MEDIUM_PREFIX-$1
	ip netns add "$ns" || return 1
	MEDIUM_NS+=("$ns")
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

# medium_member SEG MEMBER NODE ADDR: NODE's eth0 (ADDR/24) <-> s<SEG>-<MEMBER> in the switch
medium_member() {
	local seg=$1 m=$2 node=$3 addr=$4 port=s$1-$2
	ip link add eth0 netns "$MEDIUM_PREFIX-$node" type veth peer name "$port" netns "$MEDIUM_PREFIX-sw" || return 1
	ip -n "$MEDIUM_PREFIX-$node" addr add "$addr/24" dev eth0
	ip -n "$MEDIUM_PREFIX-$node" link set eth0 up
	ip -n "$MEDIUM_PREFIX-sw" link set "$port" up
}

medium_start() { # medium_start TOPOLOGY: the engine in the background
	MEDIUM_SOCK=$T_TMP/medium.sock
	"$MEDIUM_DRIVER" run "$1" "/run/netns/$MEDIUM_PREFIX-sw" "$MEDIUM_SOCK" 2>"$T_TMP/medium.log" &
	MEDIUM_PID=$!
	for _ in $(seq 50); do [ -S "$MEDIUM_SOCK" ] && break; sleep 0.05; done
	sleep 0.1
}

medium_stop() { # SIGTERM; returns the engine's exit status
	local pid=$MEDIUM_PID status=0
	[ -n "$pid" ] || return 0
	MEDIUM_PID=
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" || status=$?
	return $status
}

medium_ctl() { "$MEDIUM_DRIVER" ctl "$MEDIUM_SOCK" "$*"; }

medium_cleanup() {
	[ -n "$MEDIUM_PID" ] && kill -KILL "$MEDIUM_PID" 2>/dev/null && wait "$MEDIUM_PID" 2>/dev/null
	MEDIUM_PID=
	for ns in "${MEDIUM_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	MEDIUM_NS=()
}
