"""The mesh assertions against canned node output (BusyBox's and iproute2's
`ip route`, batctl's originator table), through the fake netsim: no root, no
babeld, no batman-adv needed."""

import ipaddress

import pytest

import netsim
from netsim.mesh import parse_originators, parse_routes

# What meshlite's BusyBox ip printed in n1 of topologies/3node.conf.
BUSYBOX_V4 = "10.13.0.2 dev eth0 onlink \n10.13.0.3 dev eth0 onlink \n"
BUSYBOX_V6 = """fd13::1 dev lo  metric 256 
fd13::2 via fe80::4477:fff:fe4d:a7fb dev eth0  metric 1024 onlink 
fd13::3 via fe80::4477:fff:fe4d:a7fb dev eth0  metric 1024 onlink 
fe80::/64 dev eth0  metric 256 
anycast fe80:: dev eth0  metric 0 
multicast ff00::/8 dev eth0  metric 256 
"""
# iproute2 in the same netns (with `proto babel` the filter hides the proto field).
IPROUTE2_V4 = ("10.13.0.2 via inet6 fe80::4477:fff:fe4d:a7fb dev eth0 onlink \n"
               "10.13.0.3 via inet6 fe80::4477:fff:fe4d:a7fb dev eth0 onlink \n")
N2_ADDRS = """1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
1: lo    inet 10.13.0.2/32 scope global lo\\       valid_lft forever preferred_lft forever
1: lo    inet6 fd13::2/128 scope global \\       valid_lft forever preferred_lft forever
2: eth0    inet6 fe80::4477:fff:fe4d:a7fb/64 scope link \\       valid_lft forever preferred_lft forever
3: eth1    inet6 fe80::64f2:a9ff:fecf:d5d7/64 scope link \\       valid_lft forever preferred_lft forever
"""
BAD = {"rc": 1, "stderr": "ip: invalid argument 'babel' to 'protocol'\n"}


def test_parse_routes_both_formats():
    r = parse_routes(BUSYBOX_V6, 6)
    assert [str(x.dst) for x in r] == ["fd13::1/128", "fd13::2/128", "fd13::3/128", "fe80::/64"]
    assert r[2].gateway == "fe80::4477:fff:fe4d:a7fb" and r[2].dev == "eth0" and r[2].proto is None
    v4 = parse_routes(IPROUTE2_V4 + "default via 10.0.0.1 dev eth1 proto static\n", 4)
    assert v4[0].gateway == "fe80::4477:fff:fe4d:a7fb"
    assert v4[2].dst == ipaddress.ip_network("0.0.0.0/0") and v4[2].proto == "static"
    assert parse_routes("garbage line\nunicast\n\n", 4) == []


def busybox_answers(extra=None):
    a = {"n1 ip route show proto babel": BAD, "n1 ip -6 route show proto babel": BAD,
         "n1 ip route show proto 42": {"stdout": BUSYBOX_V4},
         "n1 ip -6 route show proto 42": {"stdout": BUSYBOX_V6},
         "n2 ip -o addr": {"stdout": N2_ADDRS},
         "n3 ip -o addr": {"stdout": "1: lo    inet 10.13.0.3/32 scope global lo\n"}}
    a.update(extra or {})
    return a


def test_babel_route_via_busybox(fake):
    sim = netsim.Sim.up(fake.topology, name="pymesh")
    fake.canned(busybox_answers())
    netsim.assert_babel_route(sim, "n1", "n3", via="n2", within=0)
    # IPv4: BusyBox hides the IPv6 next hop, so the interface's link decides
    netsim.assert_babel_route(sim, "n1", "n3", via="n2", family=4, within=0)
    with pytest.raises(AssertionError, match=r"goes via fe80::4477:fff:fe4d:a7fb, not n3"):
        netsim.assert_babel_route(sim, "n1", "n2", via="n3", family=6, within=0)
    with pytest.raises(AssertionError, match="dev eth0 does not lead to n3"):
        netsim.assert_babel_route(sim, "n1", "n2", via="n3", family=4, within=0)
    with pytest.raises(AssertionError, match="no node n7"):
        netsim.assert_babel_route(sim, "n1", "n7", via="n2")


def test_babel_route_via_iproute2_and_missing_route(fake):
    sim = netsim.Sim.up(fake.topology, name="pymesh")
    fake.canned(busybox_answers({
        "n1 ip route show proto babel": {"stdout": IPROUTE2_V4},
        "n1 ip -6 route show proto babel": {"stdout": "fd13::2 via fe80::4477:fff:fe4d:a7fb dev eth0 metric 1024\n"}}))
    netsim.assert_babel_route(sim, "n1", "n3", via="n2", family=4, within=0)
    with pytest.raises(AssertionError, match=r"no babel route to fd13::3 \(n3\) in n1"):
        netsim.assert_babel_route(sim, "n1", "n3", via="n2", within=0.6)
    routes = netsim.babel_routes(sim, "n1", 6)
    assert [str(r.dst) for r in routes] == ["fd13::2/128"]


BATCTL = """[B.A.T.M.A.N. adv 2022.0, MainIF/MAC: eth0/02:aa:00:00:00:01 (bat0/4e:1f:00:00:00:09 BATMAN_IV)]
   Originator        last-seen (#/255) Nexthop           [outgoingIF]
 * 02:aa:00:00:00:02    0.412s   (255) 02:aa:00:00:00:02 [      eth0]
   02:aa:00:00:00:03    0.900s   (180) 02:aa:00:00:00:02 [      eth0]
"""


def test_parse_originators():
    assert parse_originators(BATCTL) == ["02:aa:00:00:00:02", "02:aa:00:00:00:03"]


def test_batman_originator(fake):
    sim = netsim.Sim.up(fake.topology, name="pymesh")
    rows = "\n".join(BATCTL.splitlines()[2:]) + "\n"
    fake.canned({"n1 batctl meshif bat0 originators -H": {"rc": 1, "stderr": "unknown command\n"},
                 "n1 batctl -m bat0 o -H": {"stdout": rows},
                 "n3 sh -c cat /sys/class/net/*/address": {"stdout": "00:00:00:00:00:00\n02:aa:00:00:00:03\n"},
                 "n2 sh -c cat /sys/class/net/*/address": {"stdout": "02:aa:00:00:00:09\n"}})
    netsim.assert_batman_originator(sim, "n1", "n3", within=0)
    with pytest.raises(AssertionError, match="n1 does not list n2 as originator"):
        netsim.assert_batman_originator(sim, "n1", "n2", within=0)


def test_all_reach(fake):
    sim = netsim.Sim.up(fake.topology, name="pymesh")
    assert netsim.assert_all_reach(sim, within=5).pairs == 6
    sim.node("n2").stop()
    with pytest.raises(AssertionError, match=r"0 of 6 pairs reach after 1 s"):
        netsim.assert_all_reach(sim, within=1)
