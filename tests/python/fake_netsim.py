"""A stand-in for the netsim binary, for the wrapper's and plugin's unit tests
(no root, no namespaces).  It keeps sims as JSON files under $FAKE_NETSIM_DIR,
answers the verbs the Python package uses in netsim's own output formats
(--json objects, `netsim: ...` errors and exit codes 1/2), computes
reachability from the links' up/down state, and appends every argv to
$FAKE_NETSIM_DIR/calls.  Knobs:
  FAKE_NETSIM_FAIL=VERB[:CODE[:MESSAGE]]   that verb fails
  $FAKE_NETSIM_DIR/exec.json               {"NODE ARGV...": {"stdout":..,"rc":..}}
                                           canned exec answers; other commands
                                           run on the host
"""

import json
import os
import signal
import subprocess
import sys
import time

D = os.environ["FAKE_NETSIM_DIR"]
SIMS = os.path.join(D, "sims")
NETEM = ("delay", "jitter", "loss", "duplicate", "reorder")


def die(msg, code=1):
    sys.stderr.write("netsim: %s\n" % msg)
    sys.exit(code)


def usage(verb, msg):
    sys.stderr.write("netsim: %s: %s\nusage: netsim %s ...\n" % (verb, msg, verb))
    sys.exit(2)


def load(name):
    path = os.path.join(SIMS, name + ".json")
    if not os.path.exists(path):
        die("sim %s is not up" % name)
    with open(path) as f:
        return json.load(f)


def save(st):
    os.makedirs(SIMS, exist_ok=True)
    with open(os.path.join(SIMS, st["sim"] + ".json"), "w") as f:
        json.dump(st, f)


def opt(args, flag, default=None):
    if flag in args:
        i = args.index(flag)
        value = args[i + 1]
        del args[i:i + 2]
        return value
    return default


def up(args):
    json_out = "--json" in args
    args = [a for a in args if a != "--json"]
    name = opt(args, "-n")
    if len(args) != 1:
        usage("up", "expects exactly one topology FILE")
    path = args[0]
    try:
        lines = open(path).read().splitlines()
    except OSError as e:
        die("%s: %s" % (path, e.strerror))
    sim = os.path.basename(path).rsplit(".conf", 1)[0]
    nodes, links, ifcount = [], [], {}
    for ln in lines:
        w = ln.split("#")[0].split()
        if not w:
            continue
        if w[0] == "sim":
            sim = w[1]
        elif w[0] == "node":
            nodes.append(w[1])
        elif w[0] == "link":
            ends = []
            for n in w[1:3]:
                ends.append("%s:eth%d" % (n, ifcount.get(n, 0)))
                ifcount[n] = ifcount.get(n, 0) + 1
            links.append({"a": ends[0], "b": ends[1], "state": "up", "quality": {}})
    sim = name or sim
    if os.path.exists(os.path.join(SIMS, sim + ".json")):
        die("up %s: sim %s is already up (stop it with `netsim down %s`)" % (sim, sim, sim))
    st = {"sim": sim, "topology": os.path.abspath(path), "created": int(time.time()),
          "nodes": [{"name": n, "state": "running", "pid": 1000 + i, "addr": "10.13.0.%d/32" % (i + 1),
                     "addr6": "fd13::%x/128" % (i + 1), "rootfs": "meshlite", "backend": "container"}
                    for i, n in enumerate(nodes)],
          "links": links, "segments": []}
    save(st)
    out = sys.stdout if not json_out else sys.stderr
    for n in st["nodes"]:
        out.write("%-12s pid %-8d %-18s %s\n" % (n["name"], n["pid"], n["addr"], n["rootfs"]))
    out.write("sim %s up: %d nodes, %d links, 0 segments in 0.01 s\n" % (sim, len(nodes), len(links)))
    if json_out:
        print(json.dumps(st))


def sim_of(args):
    name = opt(args, "-s")
    if not name:
        names = [f[:-5] for f in os.listdir(SIMS)] if os.path.isdir(SIMS) else []
        if len(names) != 1:
            die("no sim given and %d are up" % len(names))
        name = names[0]
    return load(name)


def reach_matrix(st):
    names = [n["name"] for n in st["nodes"]]
    running = {n["name"] for n in st["nodes"] if n["state"] == "running"}
    adj = {n: set() for n in names}
    for lk in st["links"]:
        if lk["state"] == "up":
            a, b = lk["a"].split(":")[0], lk["b"].split(":")[0]
            adj[a].add(b)
            adj[b].add(a)

    def component(start):
        seen, todo = {start}, [start]
        while todo:
            for m in adj[todo.pop()]:
                if m not in seen and m in running:
                    seen.add(m)
                    todo.append(m)
        return seen

    return names, [[None if a == b else (a in running and b in component(a)) for b in names]
                   for a in names]


def converge(args, reach=False):
    st = sim_of(args)
    timeout = float(opt(args, "--timeout", "60"))
    names, m = reach_matrix(st)
    missing = [[a, b] for i, a in enumerate(names) for j, b in enumerate(names) if i != j and not m[i][j]]
    pairs = len(names) * (len(names) - 1)
    if reach:
        print(json.dumps({"sim": st["sim"], "seconds": 0.001, "pairs_ok": pairs - len(missing),
                          "pairs": pairs, "nodes": names, "matrix": m,
                          "rtt_ms": [[None if v is None else (0.05 if v else None) for v in r] for r in m]}))
    else:
        print(json.dumps({"sim": st["sim"], "converged": not missing,
                          "seconds": timeout if missing else 0.5, "timeout": timeout,
                          "pairs_ok": pairs - len(missing), "pairs": pairs, "missing": missing}))
    sys.exit(1 if missing else 0)


def link(args):
    st = sim_of(args)
    a, b, action, rest = args[0], args[1], args[2] if len(args) > 2 else "show", args[3:]
    for lk in st["links"]:
        ends = {lk["a"].split(":")[0], lk["b"].split(":")[0]}
        if ends == {a.split(":")[0], b.split(":")[0]}:
            break
    else:
        die("link: %s and %s are not linked in sim %s" % (a, b, st["sim"]))
    label = "%s -- %s" % (lk["a"], lk["b"])
    if action in ("up", "down"):
        lk["state"] = action
    elif action == "set":
        for kv in rest:
            key, value = kv.split("=", 1)
            if key in NETEM:
                die("link: %s: %s needs the kernel module sch_netem (the netem qdisc), which this "
                    "host's kernel does not have and cannot load; run the sim in kernel-level mode "
                    "(netsim up --vm), whose kernel has it" % (label, kv))
            if key != "rate":
                usage("link", "unknown attribute %s" % key)
            lk["quality"][key] = value
    elif action == "clear":
        lk["quality"] = {} if not rest else {k: v for k, v in lk["quality"].items() if k not in rest}
    save(st)
    print("%s: %s" % (label, " ".join("%s=%s" % kv for kv in lk["quality"].items()) or "unshaped"))


def node(args):
    st = sim_of(args)
    name, action = args[0], args[1]
    for n in st["nodes"]:
        if n["name"] == name:
            break
    else:
        die("node: sim %s has no node %s" % (st["sim"], name))
    old = n["pid"] if n["state"] == "running" else 0
    if action in ("restart", "start"):
        n["state"], n["pid"] = "running", (old or 2000) + 1
    else:
        n["state"], n["pid"] = "stopped", 0
    save(st)
    print(json.dumps({"sim": st["sim"], "node": name, "state": n["state"], "stopped_pid": old,
                      "killed": False, "pid": n["pid"], "seconds": 0.01}))


def exec_(args):
    st = sim_of(args)
    args = [a for a in args if a not in ("-T", "-t")]
    node, cmd = args[0], args[2:]
    if node not in [n["name"] for n in st["nodes"]]:
        die("exec: sim %s has no node %s" % (st["sim"], node))
    canned = {}
    if os.path.exists(os.path.join(D, "exec.json")):
        canned = json.load(open(os.path.join(D, "exec.json")))
    key = " ".join([node] + cmd)
    if key in canned:
        sys.stdout.write(canned[key].get("stdout", ""))
        sys.stderr.write(canned[key].get("stderr", ""))
        sys.exit(canned[key].get("rc", 0))
    try:
        child = subprocess.Popen(cmd, start_new_session=True)
    except OSError as e:
        die("exec: %s: %s" % (cmd[0], e.strerror), 127)

    def on_term(sig, frame):  # as netsim exec: SIGTERM ends the node's command
        os.killpg(child.pid, signal.SIGKILL)
        os._exit(128 + sig)

    signal.signal(signal.SIGTERM, on_term)
    sys.exit(child.wait())


stop = False


def capture(args):
    st = sim_of(args)
    json_out = "--json" in args
    args = [a for a in args if a != "--json"]
    path = opt(args, "-w")
    count = opt(args, "-c")
    duration = opt(args, "--duration")
    target = args[0]
    node, _, ifname = target.partition(":")
    if node not in [n["name"] for n in st["nodes"]]:
        die("capture: sim %s has no node %s" % (st["sim"], node))
    with open(path, "wb") as f:
        f.write(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))

    def on_term(sig, frame):
        global stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    sys.stderr.write("netsim: capturing on %s:%s in sim %s\n" % (node, ifname or "any", st["sim"]))
    sys.stderr.flush()
    packets = int(count) if count else 0
    end = time.monotonic() + float(duration.rstrip("s")) if duration else None
    while not count and not stop and (end is None or time.monotonic() < end):
        time.sleep(0.02)
    sys.stderr.write("%d packets captured\n" % packets)
    if json_out:
        print(json.dumps({"sim": st["sim"], "node": node, "interface": ifname or "any",
                          "file": path, "packets": packets, "dropped": 0}))


def main():
    argv = sys.argv[1:]
    with open(os.path.join(D, "calls"), "a") as f:
        f.write(json.dumps(argv) + "\n")
    verb, args = argv[0], argv[1:]
    fail = os.environ.get("FAKE_NETSIM_FAIL", "")
    if fail and fail.split(":")[0] == verb:
        parts = fail.split(":", 2)
        die(parts[2] if len(parts) > 2 else "%s: failed on purpose" % verb,
            int(parts[1]) if len(parts) > 1 else 1)
    if verb == "up":
        up(args)
    elif verb == "down":
        path = os.path.join(SIMS, args[0] + ".json")
        if os.path.exists(path):
            os.unlink(path)
        print("sim %s down" % args[0])
    elif verb == "status":
        args.remove("--json")
        print(json.dumps(sim_of(args)))
    elif verb == "converge":
        converge(args)
    elif verb == "reach":
        converge(args, reach=True)
    elif verb == "link":
        link(args)
    elif verb == "node":
        node([a for a in args if a != "--json"])
    elif verb == "exec":
        exec_(args)
    elif verb == "log":
        st = sim_of(args)
        print("fake console of %s in %s" % (args[-1], st["sim"]))
    elif verb == "capture":
        capture(args)
    else:
        sys.stderr.write("netsim: unknown verb '%s'\n" % verb)
        sys.exit(2)


main()
