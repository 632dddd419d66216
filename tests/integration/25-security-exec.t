#!/bin/bash
# Entering a node and output from it, attacked from inside the node
# (docs/security.md: "Entering a node: exec and shell", "Output from a node
# reaching the operator's terminal", "Seccomp").  Every attack must fail, and
# the node must still work afterwards.
. "$(dirname "$0")/lib.sh"
need_root
need_meshlite
BUILD=${NETSIM_BUILD:-$TOP/build}
ATTACK=$BUILD/tests/node_attack
PTY=$BUILD/tests/ptydrive
[ -x "$ATTACK" ] && [ -x "$PTY" ] || skip_all "attack helpers not built (make)"

SIM=sx25
topo=$(write_topo sx25.conf <<EOF
sim $SIM
defaults rootfs=meshlite
node a
node b
link a b
EOF
)
cleanup_sim $SIM
"$NETSIM" up "$topo" >/dev/null 2>&1
ok $? "up $SIM"
pids=$(node_pids $SIM)

# The operator runs a copy of netsim: an attack that overwrites it shows up as a
# changed checksum, and the build stays intact.
OP=$T_TMP/netsim
cp "$NETSIM" "$OP"
sum_before=$(sha256sum <"$OP")
devino=$(stat -c %d:%i "$OP")

"$OP" exec -s $SIM a -- sh -c 'cat >/tmp/na && chmod 755 /tmp/na' <"$ATTACK"
ok $? "attack helper copied into node a"
"$OP" exec -s $SIM a -- sh -c 'printf "#!/proc/self/exe\n" >/tmp/evil && chmod 755 /tmp/evil'

# ---- /proc/PID of the processes netsim exec starts ---------------------------
# A node process watches every process that appears and tries environ, exe (and
# writing it after its process is gone: CVE-2019-5736), mem, cwd, root, fd/*,
# while the operator runs exec over and over with a secret in the environment,
# plainly, on a pty, and running a node script whose interpreter is
# /proc/self/exe.
"$OP" exec -s $SIM a -- sh -c \
	"trap '' HUP; /tmp/na proc NETSIM_SX_SECRET $devino 8 >/tmp/proc.out 2>&1 &"
sleep 0.5
export NETSIM_SX_SECRET="operator-secret-$$"
for i in $(seq 1 25); do
	"$OP" exec -s $SIM a -- true
	"$OP" exec -s $SIM a -- /tmp/evil >/dev/null 2>&1
	"$PTY" -t 10 -- "$OP" exec -s $SIM a -- true >/dev/null 2>&1
done
unset NETSIM_SX_SECRET
summary=
for i in $(seq 1 40); do
	summary=$("$NETSIM" exec -s $SIM a -- cat /tmp/proc.out 2>/dev/null | grep '^proc:')
	[ -n "$summary" ] && break
	sleep 0.5
done
like "$summary" 'leaks=0 ' "the operator's environment never shows in a node process's /proc/PID/environ"
like "$summary" 'hostexe=0 ' "no node process reaches the host binary through /proc/PID/exe"
like "$summary" 'opened=0 ' "mem, cwd, root and fd of netsim's processes stay closed to node root"
like "$summary" 'overwrote=0' "the executable behind a netsim process cannot be written"
is "$(sha256sum <"$OP")" "$sum_before" "the host's netsim binary is unchanged"
echo "# watcher: $summary"
details=$("$NETSIM" exec -s $SIM a -- cat /tmp/proc.out 2>/dev/null | grep -E '^(LEAK|HOSTEXE|BREACH|OVERWROTE)' | head -5)
[ -z "$details" ] || echo "$details" | sed 's/^/#   /'

# The script attack on its own: the interpreter the node gets is the sealed
# copy, not the host file.
out=$("$OP" exec -s $SIM a -- sh -c 'ls -l /proc/self/exe; /tmp/evil' 2>&1)
is "$(sha256sum <"$OP")" "$sum_before" "#!/proc/self/exe in a node script leaves the host binary as it was"

# ---- the environment a command gets ------------------------------------------
env_plain=$(NETSIM_SX_SECRET=x "$NETSIM" exec -s $SIM a -- cat /proc/self/environ | tr '\0' ' ')
is "$env_plain" "PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb " \
	"exec passes PATH, HOME and TERM=dumb only"
term=$(TERM=vt100 "$PTY" -- "$NETSIM" exec -s $SIM a -- sh -c 'echo "T=$TERM"' 2>/dev/null | tr -d '\r')
is "$term" "T=vt100" "on a pty, a plain TERM passes"
term=$(TERM=$'xterm\033]0;owned\007' "$PTY" -- "$NETSIM" exec -s $SIM a -- sh -c 'echo "T=$TERM"' 2>/dev/null | tr -d '\r')
is "$term" "T=dumb" "a TERM with control characters becomes dumb"

# ---- TIOCSTI: keystrokes into the operator's terminal ------------------------
# ptydrive is the operator's terminal; afterwards it reports what sits in that
# terminal's input queue (something nobody typed = injected).
# The operator's shell (sh, the session leader) stays on after exec returned,
# so a job left behind in the node could still use the terminal if it had it.
late_job='trap "" HUP; /tmp/na tiocsti -d 1 -o /tmp/late.out "echo LATE" 0<&1 &'
out=$("$PTY" -l 1 -- sh -c "'$NETSIM' exec -s $SIM a -- sh -c '/tmp/na tiocsti INJECTED; $late_job'; sleep 3" 2>&1)
like "$out" 'tiocsti fd=0: EPERM' "exec on a pty: TIOCSTI fails with EPERM"
like "$out" 'tiocsti fd=0 \(high bits\): EPERM' "... also with garbage in the request's upper bits"
like "$out" 'tiocsti /dev/tty: EPERM' "... and through /dev/tty"
like "$out" 'ptydrive: input-queue=$' "exec on a pty: nothing was injected into the operator's terminal"
late=$("$NETSIM" exec -s $SIM a -- cat /tmp/late.out 2>&1)
like "$late" 'tiocsti fd=0: EPERM' "a background job left behind cannot TIOCSTI either"
unlike_ok() { if printf '%s' "$1" | grep -Eq -- "$2"; then ok 1 "$3"; else ok 0 "$3"; fi; }
unlike_ok "$late" ': ok' "... none of its attempts worked"

out=$("$PTY" -l 1 -- sh -c "'$NETSIM' exec -T -s $SIM a -- sh -c '/tmp/na tiocsti INJECTED; ${late_job/late.out/late2.out}'; sleep 3" 2>&1)
like "$out" 'tiocsti /dev/tty: open ENXIO' "exec -T: the command has no controlling terminal"
unlike_ok "$out" 'tiocsti [^:]*: ok' "exec -T: no TIOCSTI works"
like "$out" 'ptydrive: input-queue=$' "exec -T: nothing was injected"
late=$("$NETSIM" exec -s $SIM a -- cat /tmp/late2.out 2>&1)
like "$late" 'tiocsti fd=0: EPERM' "exec -T: the background job left behind: TIOCSTI fails with EPERM"
unlike_ok "$late" ': ok' "... and injects nothing"

# stdin a terminal, stdout a pipe: no pty, and the terminal reaches the node as a pipe
out=$("$PTY" -l 1 -- sh -c "'$NETSIM' exec -s $SIM a -- sh -c 'ls -l /proc/self/fd/0; /tmp/na tiocsti X; ${late_job/late.out/late3.out}' | cat; sleep 3" 2>&1)
like "$out" '0 -> pipe:' "stdin a terminal, stdout a pipe: the node gets a pipe, not the terminal"
like "$out" 'ptydrive: input-queue=$' "... and injects nothing, also later"

# ---- shell over the relayed pty ----------------------------------------------
out=$("$PTY" -t 20 -e '# ' -i 'echo $((6*7)); tty; stty size\nexit 5\n' -- "$NETSIM" shell -s $SIM a 2>&1)
rc=$?
like "$out" '42' "shell: a typed command runs and its output comes back"
like "$out" '/dev/pts/[0-9]' "shell: stdin is a pty of the node's own devpts"
like "$out" '30 100' "shell: the window size is the operator's"
is "$rc" 5 "shell: the exit status passes through"
like "$out" 'modes=same' "shell: the operator's terminal modes are restored"
out=$("$PTY" -t 20 -e '# ' -R 40x120 -i 'stty size\nexit\n' -- "$NETSIM" shell -s $SIM a 2>&1)
like "$out" '40 120' "shell: a window size change follows (SIGWINCH)"
out=$("$PTY" -- "$NETSIM" shell -s $SIM nosuchnode 2>&1)
like "$out" 'modes=same' "shell that fails: terminal modes untouched"
out=$("$PTY" -t 20 -- sh -c "exec 3<&0; '$NETSIM' exec -s $SIM a -- sleep 30 <&3 & p=\$!; sleep 1; kill \$p; wait \$p; echo status=\$?" 2>&1)
like "$out" 'status=143' "SIGTERM to exec on a pty reaches the command (143)"
like "$out" 'modes=same' "... and the operator's terminal is restored"
out=$("$PTY" -t 20 -- bash --norc -ic "set -m; '$NETSIM' exec -s $SIM a -- ls -l /proc/self/fd/0 & wait" 2>&1)
like "$out" '0 -> /dev/null' "exec as a background job of a job-control shell: stdin /dev/null, not stopped"
out=$(printf 'hostname\necho piped-$((1+1))\n' | "$NETSIM" shell -t -s $SIM a 2>&1)
like "$out" 'piped-2' "shell -t with stdin from a pipe: input is relayed, EOF ends the shell"

# ---- output from a node: escaped unless --raw --------------------------------
"$NETSIM" exec -s $SIM a -- sh -c \
	'printf "sx-mark \033]0;owned\007 \033[31mred\033[0m \302\233c \303\251\n" >>/dev/console'
log=$("$NETSIM" log -s $SIM a 2>&1 | grep sx-mark)
is "$log" 'sx-mark \033]0;owned\007 \033[31mred\033[0m \302\233c é' \
	"log shows ESC, BEL and C1 controls escaped; UTF-8 text passes"
ok $(printf '%s' "$log" | grep -q $'\033'; [ $? -ne 0 ]; echo $?) "log: no raw ESC reaches the terminal"
raw=$("$NETSIM" log --raw -s $SIM a 2>&1 | grep sx-mark)
ok $(printf '%s' "$raw" | grep -q $'\033\\[31mred'; echo $?) "log --raw prints the bytes as they are"
err=$("$NETSIM" exec -s $SIM a -- $'/no/such\033[2J' 2>&1)
like "$err" 'such\\033\[2J' "error messages escape control characters"
ok $(printf '%s' "$err" | grep -q $'\033'; [ $? -ne 0 ]; echo $?) "... no raw ESC in them"

# ---- seccomp: vsock ----------------------------------------------------------
out=$("$NETSIM" exec -s $SIM a -- /tmp/na vsock 2>&1)
like "$out" 'vsock: (EAFNOSUPPORT|EPERM)' "socket(AF_VSOCK) fails in a node"
like "$out" 'vsock \(high bits\): (EAFNOSUPPORT|EPERM)' "... also with garbage in the family's upper bits"

out=$("$PTY" -- "$NETSIM" exec -s $SIM a -- /tmp/na tioclinux 2>&1)
like "$out" 'tioclinux: EPERM' "ioctl(TIOCLINUX) fails with EPERM (the filter, not ENOTTY)"

# The same filter holds for a node's init and what it starts: a node whose init
# runs the attacks and reports to its console.
mkdir -p "$T_TMP/initfiles"
cp "$ATTACK" "$T_TMP/initfiles/na"
printf '#!/bin/sh\n/na tioclinux\n/na vsock\n/na tiocsti X\necho na-init-done\nexec sleep 1000000\n' \
	>"$T_TMP/initfiles/na-init"
chmod 755 "$T_TMP/initfiles/na" "$T_TMP/initfiles/na-init"
ISIM=sx25i
itopo=$(write_topo sx25i.conf <<EOF
sim $ISIM
node c rootfs=meshlite files=$T_TMP/initfiles init=/na-init
EOF
)
cleanup_sim $ISIM
"$NETSIM" up "$itopo" >/dev/null 2>&1
ok $? "up $ISIM (a node whose init attacks)"
for i in $(seq 1 50); do
	ilog=$("$NETSIM" log -s $ISIM c 2>&1)
	case $ilog in *na-init-done*) break ;; esac
	sleep 0.1
done
like "$ilog" 'tioclinux: EPERM' "init's children: TIOCLINUX fails with EPERM"
like "$ilog" 'vsock: EAFNOSUPPORT' "init's children: AF_VSOCK fails"
like "$ilog" 'tiocsti fd=1: EPERM' "init's children: TIOCSTI fails with EPERM"
ipids=$(node_pids $ISIM)
"$NETSIM" down $ISIM >/dev/null 2>&1
is "$(settled_leftovers $ISIM $ipids)" "" "$ISIM: nothing left behind"

# ---- the node still works ----------------------------------------------------
is "$("$NETSIM" exec -s $SIM a -- hostname 2>&1)" a "node a still runs commands"
"$NETSIM" reach -s $SIM --timeout 30 >/dev/null 2>&1
ok $? "a and b still reach each other"

"$NETSIM" down $SIM >/dev/null 2>&1
ok $? "down $SIM"
is "$(settled_leftovers $SIM $pids)" "" "nothing left behind"
done_testing
