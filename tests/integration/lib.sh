# Shared helpers for the integration tests (TAP).  Source it, then use ok/is/skip.
# Every test registers what it creates with `cleanup_sim NAME` so the EXIT trap
# removes it, also when the test fails or is interrupted.

NETSIM=${NETSIM:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/netsim}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T_NUM=0
T_FAILED=0
T_SIMS=()
T_TMP=$(mktemp -d /tmp/netsim-test.XXXXXX)

ok() { # ok COND-EXIT-STATUS DESCRIPTION
	local status=$1; shift
	T_NUM=$((T_NUM + 1))
	if [ "$status" -eq 0 ]; then
		echo "ok $T_NUM - $*"
	else
		echo "not ok $T_NUM - $*"
		T_FAILED=$((T_FAILED + 1))
	fi
}

is() { # is GOT WANT DESCRIPTION
	local got=$1 want=$2; shift 2
	if [ "$got" = "$want" ]; then ok 0 "$*"; else
		ok 1 "$*"; echo "#   got:  '$got'"; echo "#   want: '$want'"; fi
}

like() { # like GOT REGEX DESCRIPTION
	local got=$1 re=$2; shift 2
	if printf '%s' "$got" | grep -Eq -- "$re"; then ok 0 "$*"; else
		ok 1 "$*"; echo "#   got:  '$got'" | head -20; echo "#   want match: /$re/"; fi
}

fails() { # fails CMD [ARG...] DESCRIPTION: ok when CMD exits non-zero
	# (a refusal the test expects).  CMD's stdout and stderr are left in $out.
	local desc=${!#}
	out=$("${@:1:$#-1}" 2>&1)
	ok $(($? == 0)) "$desc"
}

lacks() { # lacks PATTERN CMD [ARG...]: status 0 when CMD succeeds and prints no
	# line matching PATTERN (grep's); unlike `CMD | grep -q P; [ $? -ne 0 ]`, a
	# failing CMD fails.  Use as: ok $(lacks P CMD...; echo $?) DESCRIPTION
	local pattern=$1 output; shift
	output=$("$@") || return 1
	! printf '%s\n' "$output" | grep -q -- "$pattern"
}

skip_all() { echo "1..0 # SKIP $*"; exit 0; }

need_root() { [ "$(id -u)" = 0 ] || skip_all "needs root"; }

need_meshlite() {
	[ -f "${NETSIM_ROOTFS_DIR:-${NETSIM_BUILD:-$TOP/build}/rootfs}/meshlite.tar.gz" ] ||
		skip_all "meshlite rootfs not built (make rootfs)"
}

cleanup_sim() { T_SIMS+=("$1"); }

t_cleanup() {
	for s in "${T_SIMS[@]}"; do "$NETSIM" down "$s" >/dev/null 2>&1; done
	rm -rf "$T_TMP"
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM

done_testing() {
	echo "1..$T_NUM"
	[ "$T_FAILED" -eq 0 ]
}

# Everything a sim may leave on the machine; empty output means clean.
leftovers() {
	local sim=$1
	ls /run/netns 2>/dev/null | grep -E "^$sim[_.]" | sed 's/^/netns: /'
	[ -e "/run/netsim/$sim" ] && echo "state dir: /run/netsim/$sim"
	grep -E "/run/(netsim/|netns/)$sim[_./]" /proc/self/mountinfo | sed 's/^/mount: /'
	for pid in "$@"; do
		[ -n "$pid" ] && [ -e "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null &&
			echo "process: $pid"
	done
	find /sys/fs/cgroup -maxdepth 4 -path "*/netsim/$sim" 2>/dev/null | sed 's/^/cgroup: /'
	true
}

# leftovers, given up to 3 s for what the kernel finishes asynchronously (a
# namespace whose last process is still exiting); prints what is still there.
settled_leftovers() {
	local left i
	for i in $(seq 1 30); do
		left=$(leftovers "$@")
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	echo "$left"
}

# Host pids of a sim's node inits, from the pid files.
node_pids() {
	cat /run/netsim/"$1"/nodes/*/pid 2>/dev/null | awk '{print $1}'
}

# A topology file in the test's temp dir: write_topo NAME <<EOF ... EOF
write_topo() {
	cat >"$T_TMP/$1"
	echo "$T_TMP/$1"
}
