#!/bin/bash
# What a topology may read and extract (docs/security.md, "Root filesystems"):
# rootfs=/files= never show a node the host's own directories, only tar is read,
# extraction is bounded, the cache is root's 0700, and a killed extraction's
# temporary is swept by the next `up` or `down`.  Every refusal is a clear
# error with file:line and leaves nothing behind.
. "$(dirname "$0")/lib.sh"
need_root
need_meshlite

# A private cache, so other tests' runs are not disturbed ($T_TMP is 0700 root
# below the sticky /tmp, which the cache check accepts).
export NETSIM_CACHE_DIR=$T_TMP/cache
unset NETSIM_EXTRACT_MAX_BYTES NETSIM_EXTRACT_MAX_FILES
SIM=sr1
cleanup_sim $SIM

topo() { # topo NAME NODE-ATTRS...: a one-node topology file for sim sr1
	local f=$T_TMP/$1.conf
	shift
	printf 'sim sr1\nnode a %s\n' "$*" > "$f"
	echo "$f"
}

refused() { # refused CONF REGEX DESCRIPTION: up fails with REGEX and leaves nothing
	local conf=$1 re=$2 desc=$3 out
	fails "$NETSIM" up "$conf" "$desc: up fails"
	like "$out" "$re" "$desc: clear error ($out)"
	is "$(leftovers $SIM)" "" "$desc: nothing created"
}

# --- host directories as rootfs= or files= --------------------------------------
ln -s / "$T_TMP/to-root"
ln -s /run/netns "$T_TMP/to-netns"
mkdir -p /run/netns
refused "$(topo root rootfs=/)" "root.conf:2: node a: rootfs=/: / is the host's /" "rootfs=/"
refused "$(topo link rootfs=$T_TMP/to-root/)" \
	"link.conf:2: node a: rootfs=.*to-root/ \(resolves to /\) is the host's /" \
	"rootfs= a symlink to /"
refused "$(topo dotdot rootfs=/usr/lib/../..)" "dotdot.conf:2: .*resolves to /\)" "rootfs=/usr/lib/../.."
refused "$(topo etc rootfs=/etc/)" "etc.conf:2: node a: rootfs=/etc/: .* the host's /etc" "rootfs=/etc/"
refused "$(topo netns files=/run/netns)" "netns.conf:2: node a: files=/run/netns: .*the host's /run/netns" \
	"files=/run/netns"
refused "$(topo netnslink files=$T_TMP/to-netns)" "resolves to /run/netns" "files= a symlink to /run/netns"
refused "$(topo filesroot files=/)" "filesroot.conf:2: node a: files=/: " "files=/"
refused "$(topo state files=/run/netsim)" "netsim's own /run/netsim" "files=/run/netsim (netsim's state)"
refused "$(topo home files=/home)" "the host's /home" "files=/home"
refused "$(topo proc files=/proc/self/)" "is inside the host's /proc" "files=/proc/self/"
mkdir -p "$NETSIM_CACHE_DIR" && chmod 0700 "$NETSIM_CACHE_DIR"
refused "$(topo cache files=$NETSIM_CACHE_DIR)" "is netsim's own $NETSIM_CACHE_DIR" "files= the rootfs cache"
refused "$(topo above files=$T_TMP)" "contains netsim's own $NETSIM_CACHE_DIR" "files= a dir above the cache"
rmdir "$NETSIM_CACHE_DIR"
# The check runs for every node before any rootfs is extracted: node a's
# tarball is not even unpacked when node b's files= is refused.
printf 'sim sr1\nnode a rootfs=meshlite\nnode b files=/etc\n' > "$T_TMP/two.conf"
refused "$T_TMP/two.conf" "two.conf:3: node b: files=/etc: " "second node's files=/etc"
ok $([ ! -e "$NETSIM_CACHE_DIR" ]; echo $?) "...and the first node's rootfs was not extracted"

# --- only tar is read ---------------------------------------------------------------
refused "$(topo shadow rootfs=/etc/shadow)" \
	"shadow.conf:2: node a: rootfs=/etc/shadow: /etc/shadow is inside the host's /etc" \
	"rootfs=/etc/shadow (was read as mtree)"
cp /etc/hostname "$T_TMP/plain-text"
refused "$(topo text rootfs=$T_TMP/plain-text)" \
	"text.conf:2: node a: rootfs: .*plain-text is not a tar archive .*netsim reads only tar" \
	"a text file as rootfs= is not read as mtree"
printf '#mtree\n./etc type=dir\n' > "$T_TMP/fake.tar.gz"
refused "$(topo mtree rootfs=$T_TMP/fake.tar.gz)" "is not a tar archive" "an mtree file named .tar.gz"
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1], "w").writestr("sbin/init", "x")' \
	"$T_TMP/image.zip"
refused "$(topo zip rootfs=$T_TMP/image.zip)" "is not a tar archive" "a zip archive"
: > "$T_TMP/empty.tar.gz"
refused "$(topo empty rootfs=$T_TMP/empty.tar.gz)" "empty.tar.gz is empty \(0 bytes\), not a rootfs tarball" \
	"a 0-byte rootfs"
tar -cf "$T_TMP/noentries.tar" -T /dev/null
refused "$(topo noentries rootfs=$T_TMP/noentries.tar)" "noentries.tar holds no tar entries" \
	"a tar without entries"

# --- extraction limits --------------------------------------------------------------
mkdir -p "$T_TMP/bomb"
head -c 64M /dev/zero > "$T_TMP/bomb/zeros"
tar -czf "$T_TMP/bomb.tar.gz" -C "$T_TMP/bomb" zeros
rm -rf "$T_TMP/bomb"
echo "# bomb: $(stat -c %s "$T_TMP/bomb.tar.gz") bytes of gzip, 64 MiB extracted"
export NETSIM_EXTRACT_MAX_BYTES=8M
started=$(date +%s%N)
refused "$(topo bomb rootfs=$T_TMP/bomb.tar.gz)" \
	"entry 'zeros': extraction stopped: the archive expands to more than 8388608 bytes \(raise the limit with NETSIM_EXTRACT_MAX_BYTES\)" \
	"a 64 MiB gzip bomb with NETSIM_EXTRACT_MAX_BYTES=8M"
echo "# refused in $(( ($(date +%s%N) - started) / 1000000 )) ms"
is "$(ls -A "$NETSIM_CACHE_DIR" | grep -v '^\.lock$')" "" "...no cache entry and no .tmp-* left"
export NETSIM_EXTRACT_MAX_BYTES=lots
refused "$(topo badenv rootfs=$T_TMP/bomb.tar.gz)" "NETSIM_EXTRACT_MAX_BYTES=lots: give a number above 0" \
	"a malformed NETSIM_EXTRACT_MAX_BYTES"
unset NETSIM_EXTRACT_MAX_BYTES

python3 - "$T_TMP/many.tar.gz" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w:gz") as t:
    for i in range(300):
        info = tarfile.TarInfo("f%03d" % i)
        t.addfile(info, io.BytesIO(b""))
PY
NETSIM_EXTRACT_MAX_FILES=100 refused "$(topo many rootfs=$T_TMP/many.tar.gz)" \
	"extraction stopped: the archive has more than 100 entries \(raise the limit with NETSIM_EXTRACT_MAX_FILES\)" \
	"300 entries with NETSIM_EXTRACT_MAX_FILES=100"

# --- the cache's permissions ---------------------------------------------------------
chmod 0755 "$NETSIM_CACHE_DIR"
refused "$(topo meshlite rootfs=meshlite)" \
	"rootfs cache $NETSIM_CACHE_DIR has mode 0755 .*fix: chown root:root $NETSIM_CACHE_DIR && chmod 0700" \
	"a 0755 cache"
chmod 0700 "$NETSIM_CACHE_DIR"

out=$("$NETSIM" up -q "$(topo meshlite rootfs=meshlite)" 2>&1)
ok $? "a good private cache works ($out)"
entry=$(ls -d "$NETSIM_CACHE_DIR"/[0-9a-f]* | head -1)
is "$(stat -c '%a %U:%G' "$NETSIM_CACHE_DIR") $(stat -c '%a %U:%G' "$entry")" \
	"700 root:root 755 root:root" "cache 0700 root, entry root 0755 root:root"
"$NETSIM" down $SIM >/dev/null 2>&1
ok $? "down"

# --- a killed extraction is swept by the next up / down ----------------------------------
# 60000 empty files: the extraction takes seconds, long enough to kill it.
python3 - "$T_TMP/big.tar.gz" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w:gz", compresslevel=1) as t:
    for d in range(60):
        info = tarfile.TarInfo("d%02d" % d)
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        t.addfile(info)
        for i in range(1000):
            t.addfile(tarfile.TarInfo("d%02d/f%04d" % (d, i)), io.BytesIO(b""))
PY

kill_mid_extract() { # start up of the big tarball, SIGKILL it once its .tmp-* exists
	"$NETSIM" up -q "$(topo big rootfs=$T_TMP/big.tar.gz)" >/dev/null 2>&1 &
	local pid=$! i
	for i in $(seq 1 200); do
		compgen -G "$NETSIM_CACHE_DIR/.tmp-*" >/dev/null && break
		sleep 0.05
	done
	sleep 0.3
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
}

kill_mid_extract
temps=$(ls -A "$NETSIM_CACHE_DIR" | grep -c '^\.tmp-')
is "$temps" 1 "SIGKILL mid-extraction leaves one .tmp-* behind"
is "$(leftovers $SIM)" "" "...and nothing else"
"$NETSIM" down $SIM >/dev/null 2>&1
ok $? "down after the killed up"
is "$(ls -A "$NETSIM_CACHE_DIR" | grep -c '^\.tmp-')" 0 "down swept the stale .tmp-*"

kill_mid_extract
is "$(ls -A "$NETSIM_CACHE_DIR" | grep -c '^\.tmp-')" 1 "killed again: a .tmp-* is left"
out=$("$NETSIM" up -q "$(topo meshlite rootfs=meshlite)" 2>&1)
ok $? "up of another (cached) rootfs ($out)"
is "$(ls -A "$NETSIM_CACHE_DIR" | grep -c '^\.tmp-')" 0 "up swept the stale .tmp-*"
"$NETSIM" down $SIM >/dev/null 2>&1
is "$(leftovers $SIM)" "" "nothing left at the end"

# --- a lower layer swapped for a symlink after `up` checked it ------------------------
# Whoever owns a directory on files='s way (the topology's author) can replace it
# with a symlink to a host directory after `up`; `node start` must not mount that.
mkdir -p "$T_TMP/ov" && echo mine > "$T_TMP/ov/from-files"
out=$("$NETSIM" up -q "$(topo swap rootfs=meshlite files=$T_TMP/ov)" 2>&1)
ok $? "up with files= a directory of its own ($out)"
is "$("$NETSIM" exec -s $SIM a -- cat /from-files 2>&1)" "mine" "...which the node sees"
mv "$T_TMP/ov" "$T_TMP/ov.real" && ln -s /etc "$T_TMP/ov"
fails "$NETSIM" node -s $SIM a restart "node restart after files= became a symlink to /etc fails"
like "$out" "files $T_TMP/ov now resolves to /etc" "...clearly ($out)"
fails "$NETSIM" exec -s $SIM a -- ls /shadow /passwd "...and the node does not see the host's /etc"
echo "#   $out"
rm "$T_TMP/ov" && mv "$T_TMP/ov.real" "$T_TMP/ov"
"$NETSIM" down $SIM >/dev/null 2>&1
is "$(leftovers $SIM)" "" "nothing left after the swapped files="

done_testing
