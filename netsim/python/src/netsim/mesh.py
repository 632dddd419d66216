"""Assertions mesh test suites write by hand: a babel route from A to B via C,
a batman-adv originator table of A listing B, every node reaching every node.

Each one reads the node's own view through `netsim exec` (its `ip`, its
`batctl`), retries until `within` seconds passed (routing protocols converge),
and raises AssertionError saying what it saw last.
"""

import ipaddress
import re
import time

RTPROT_BABEL = "42"  # babeld's routing protocol number (rtnetlink)


class Route:
    """One line of `ip route`: dst (an ip_network), gateway (str or None),
    dev, proto (None when this ip does not print it)."""

    def __init__(self, dst, gateway=None, dev=None, proto=None, line=""):
        self.dst, self.gateway, self.dev, self.proto, self.line = dst, gateway, dev, proto, line

    def __repr__(self):
        return "Route(%s via %s dev %s proto %s)" % (self.dst, self.gateway, self.dev, self.proto)


_ROUTE_TYPES = {"unicast", "local", "broadcast", "anycast", "multicast", "unreachable",
                "blackhole", "prohibit", "throw"}


def parse_routes(text, family):
    """Routes of `ip [-6] route` output, iproute2's or BusyBox's format."""
    routes = []
    for line in text.splitlines():
        words = line.split()
        if not words or words[0] in _ROUTE_TYPES - {"unicast"}:
            continue
        if words[0] == "unicast":
            words = words[1:]
        if not words:
            continue
        dst = words[0]
        try:
            net = ipaddress.ip_network("0.0.0.0/0" if dst == "default" and family == 4 else
                                       "::/0" if dst == "default" else dst, strict=False)
        except ValueError:
            continue
        attrs = {}
        i = 1
        while i < len(words):
            key = words[i]
            if key == "via":
                # iproute2 prints an IPv4 route over an IPv6 next hop as "via inet6 ADDR"
                if i + 2 < len(words) and words[i + 1] in ("inet", "inet6"):
                    attrs["via"] = words[i + 2]
                    i += 3
                    continue
                if i + 1 < len(words):
                    attrs["via"] = words[i + 1]
                i += 2
            elif key in ("dev", "proto") and i + 1 < len(words):
                attrs[key] = words[i + 1]
                i += 2
            else:
                i += 1
        routes.append(Route(net, attrs.get("via"), attrs.get("dev"), attrs.get("proto"), line))
    return routes


def babel_routes(sim, node, family=6):
    """The routes babeld installed in node.  iproute2 (`proto babel`) filters by
    protocol; BusyBox's ip knows no protocol names, so `proto 42` is asked for,
    and since BusyBox ignores that filter for IPv6 and prints no protocol, its
    IPv6 routes count only when they have a gateway (connected and kernel
    routes have none)."""
    flag = ["-6"] if family == 6 else []
    res = sim.exec(node, ["ip"] + flag + ["route", "show", "proto", "babel"], check=False)
    if res.returncode == 0:
        return [r for r in parse_routes(res.stdout, family) if r.proto in (None, "babel", RTPROT_BABEL)]
    res = sim.exec(node, ["ip"] + flag + ["route", "show", "proto", RTPROT_BABEL])
    routes = parse_routes(res.stdout, family)
    if family == 6:
        routes = [r for r in routes if r.proto in ("babel", RTPROT_BABEL) or (r.proto is None and r.gateway)]
    return routes


def node_addresses(sim, node):
    """Every address of node's interfaces (link-local ones too), from `ip -o addr`."""
    out = sim.exec(node, ["ip", "-o", "addr"]).stdout
    return {w.split("/")[0] for line in out.splitlines()
            for k, w in zip(line.split(), line.split()[1:]) if k in ("inet", "inet6")}


def _link_peer(status, node, dev):
    """The node at the other end of node:dev, if it is a point-to-point link."""
    me = "%s:%s" % (node, dev)
    for lk in status["links"]:
        if lk["a"] == me:
            return lk["b"].split(":")[0]
        if lk["b"] == me:
            return lk["a"].split(":")[0]
    return None


def _retry(within, attempt, interval=0.5):
    """attempt() → (ok, detail); True once ok, else the last detail."""
    deadline = time.monotonic() + within
    while True:
        ok, detail = attempt()
        if ok or time.monotonic() >= deadline:
            return ok, detail
        time.sleep(interval)


def assert_babel_route(sim, src, dst, via, family=None, within=30):
    """babeld on src has a route to dst's address (IPv4 and IPv6, or only
    `family` 4 or 6) whose next hop is via: a gateway that is one of via's
    addresses, or — when the node's ip does not print the gateway (BusyBox,
    IPv4 over an IPv6 next hop) — an interface whose link leads to via."""
    status = sim.status()
    info = {n["name"]: n for n in status["nodes"]}
    for name in (src, dst, via):
        if name not in info:
            raise AssertionError("sim %s has no node %s" % (sim.name, name))
    wanted = []
    for fam, key in ((4, "addr"), (6, "addr6")):
        if family in (None, fam) and info[dst].get(key):
            wanted.append((fam, ipaddress.ip_address(info[dst][key].split("/")[0])))
    via_addrs = node_addresses(sim, via)

    def attempt():
        problems = []
        for fam, addr in wanted:
            routes = [r for r in babel_routes(sim, src, fam) if addr in r.dst]
            if not routes:
                problems.append("no babel route to %s (%s) in %s" % (addr, dst, src))
                continue
            best = max(routes, key=lambda r: r.dst.prefixlen)
            if best.gateway:
                if best.gateway.split("%")[0] not in via_addrs:
                    problems.append("%s's route to %s (%s) goes via %s, not %s (%s)" % (
                        src, addr, dst, best.gateway, via, ", ".join(sorted(via_addrs))))
            elif _link_peer(status, src, best.dev) != via:
                problems.append("%s's route to %s (%s) is `%s`: dev %s does not lead to %s" % (
                    src, addr, dst, best.line.strip(), best.dev, via))
        return not problems, "; ".join(problems)

    ok, detail = _retry(within, attempt)
    if not ok:
        raise AssertionError("babel route %s -> %s via %s: %s (after %s s)" % (
            src, dst, via, detail, within))


_MAC = re.compile(r"([0-9a-f]{2}(?::[0-9a-f]{2}){5})", re.I)


def parse_originators(text):
    """Originator MACs of `batctl o` output (the first MAC of each table row)."""
    macs = []
    for line in text.splitlines():
        stripped = line.strip().lstrip("*").strip()
        m = _MAC.match(stripped)
        if m:
            macs.append(m.group(1).lower())
    return macs


def batman_originators(sim, node, mesh_if="bat0"):
    """The originators node's batman-adv lists (`batctl meshif IF o -H`, or
    the older `batctl -m IF o -H`)."""
    res = sim.exec(node, ["batctl", "meshif", mesh_if, "originators", "-H"], check=False)
    if res.returncode != 0:
        res = sim.exec(node, ["batctl", "-m", mesh_if, "o", "-H"])
    return parse_originators(res.stdout)


def node_macs(sim, node):
    out = sim.exec(node, "cat /sys/class/net/*/address").stdout
    return {m.lower() for m in _MAC.findall(out)} - {"00:00:00:00:00:00"}


def assert_batman_originator(sim, a, b, mesh_if="bat0", within=30):
    """a's batman-adv originator table lists b (by any MAC of b's interfaces)."""
    macs_b = node_macs(sim, b)

    def attempt():
        orig = batman_originators(sim, a, mesh_if)
        return bool(macs_b & set(orig)), "originators of %s: %s; %s's MACs: %s" % (
            a, ", ".join(orig) or "none", b, ", ".join(sorted(macs_b)))

    ok, detail = _retry(within, attempt, interval=1)
    if not ok:
        raise AssertionError("batman-adv: %s does not list %s as originator (%s, after %s s)" % (
            a, b, detail, within))


def assert_all_reach(sim, within=30):
    """Every node reaches every node within `within` seconds (netsim converge);
    returns the convergence result (seconds, pairs)."""
    res = sim.converge(timeout=within)
    if not res["converged"]:
        missing = ", ".join("%s->%s" % tuple(p) for p in res["missing"])
        raise AssertionError("sim %s: %d of %d pairs reach after %s s; missing: %s" % (
            sim.name, res["pairs_ok"], res["pairs"], within, missing))
    return res
