"""What a test needs from this machine: root, kernel features, programs.

missing(feature) returns None when the feature is there, else the reason it is
not (the skip message).  Kernel features are probed the way netsim itself
finds out — by trying, in a throwaway network namespace (`unshare --net`) —
when running as root; otherwise by /sys/module.  Results are cached per
process.
"""

import functools
import os
import shutil
import subprocess

from ._run import find_binary, NetsimError


def _probe(script):
    """Run script (sh) in a new, empty network namespace; True if it succeeded."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        return None
    try:
        return subprocess.run(["unshare", "--net", "sh", "-c", script], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _kernel(module, script):
    if os.path.isdir("/sys/module/" + module):
        return None
    probed = _probe(script) if script else None
    if probed:
        return None
    return "kernel has no %s%s" % (module, "" if probed is False else " (not in /sys/module)")


def _meshlite():
    dirs = []
    if os.environ.get("NETSIM_ROOTFS_DIR"):
        dirs.append(os.environ["NETSIM_ROOTFS_DIR"])
    try:
        exe = os.path.dirname(os.path.realpath(shutil.which(find_binary()) or find_binary()))
        dirs += [os.path.join(exe, "rootfs"), os.path.join(exe, "..", "share", "netsim", "rootfs")]
    except NetsimError:
        pass
    for d in dirs:
        if os.path.isfile(os.path.join(d, "meshlite.tar.gz")):
            return None
    return "meshlite rootfs not built (make rootfs) in %s" % (", ".join(dirs) or "any rootfs dir")


def _netsim():
    try:
        find_binary()
        return None
    except NetsimError as e:
        return str(e)


# feature → a function returning None or the reason it is missing
FEATURES = {
    "root": lambda: None if os.geteuid() == 0 else "needs root",
    "netsim": _netsim,
    "meshlite": _meshlite,
    "netem": lambda: _kernel("sch_netem", "tc qdisc add dev lo root netem delay 1ms"),
    "batman-adv": lambda: _kernel("batman_adv", "ip link add bat0 type batadv"),
    "8021q": lambda: _kernel("8021q", "ip link add v0 type veth peer name v1 && "
                                      "ip link add link v0 name v0.5 type vlan id 5"),
    "mac80211_hwsim": lambda: _kernel("mac80211_hwsim", None),
    "kvm": lambda: None if os.access("/dev/kvm", os.R_OK | os.W_OK) else "no usable /dev/kvm",
}


@functools.lru_cache(maxsize=None)
def missing(feature):
    """None if this machine has feature, else why not.  feature is one of
    FEATURES, or a program looked up in PATH (also as "bin:NAME")."""
    if feature in FEATURES:
        return FEATURES[feature]()
    name = feature[4:] if feature.startswith("bin:") else feature
    return None if shutil.which(name) else "%s not found in PATH" % name


def require(*features):
    """Reasons for every missing feature (empty list: all there)."""
    return [r for r in (missing(f) for f in features) if r]
