"""The Python API against the real netsim and topologies/3node.conf (root,
meshlite): up, exec, a babel route, a capture, link down/up, a node restart,
converge, down — and nothing left on the machine afterwards.  Also pins the
--json outputs of up and capture that the API relies on."""

import os
import subprocess

import pytest

import netsim
from conftest import TOP

SIM = "pyreal"
pytestmark = pytest.mark.netsim_needs("root", "netsim", "meshlite")


def leftovers(sim):
    left = []
    run_dir = os.environ.get("NETSIM_RUN_DIR", "/run/netsim")
    if os.path.exists(os.path.join(run_dir, sim)):
        left.append("state dir")
    left += ["netns " + n for n in os.listdir("/run/netns")
             if n.startswith(sim + "_") or n.startswith(sim + ".")] if os.path.isdir("/run/netns") else []
    with open("/proc/self/mountinfo") as f:
        left += ["mount " + l.split()[4] for l in f if "/%s/" % sim in l or "/%s_" % sim in l]
    return left


@pytest.fixture
def sim():
    binary = netsim.find_binary()
    subprocess.run([binary, "down", SIM], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    s = netsim.Sim.up(TOP / "topologies" / "3node.conf", name=SIM)
    try:
        yield s
    finally:
        s.down()


def test_json_usage_errors_change_nothing():
    binary = netsim.find_binary()
    topo = str(TOP / "topologies" / "3node.conf")
    for args, msg in ((["up", "--json", "--vm", "-n", SIM, topo], "--json is not available with --vm"),
                      (["capture", "-s", SIM, "n1", "--json"], "--json needs -w FILE")):
        r = subprocess.run([binary] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert r.returncode == 2 and msg in r.stderr and r.stdout == "", r
    assert leftovers(SIM) == []


def test_3node(sim, tmp_path):
    st = sim.status()
    assert sim.name == SIM and [n["name"] for n in st.nodes] == ["n1", "n2", "n3"]
    assert st.nodes[2]["addr"] == "10.13.0.3/32" and st.nodes[0]["state"] == "running"

    conv = sim.converge(timeout=60)
    assert conv.converged and conv.pairs == 6, conv

    # exec: output and exit status pass through
    assert sim.exec("n1", "hostname").stdout.strip() == "n1"
    assert sim.exec("n2", "exit 7", check=False).returncode == 7
    with pytest.raises(netsim.NetsimError) as e:
        sim.exec("n9", "true")
    assert e.value.returncode == 1 and "n9" in e.value.message

    # babel's routes, as the node's BusyBox ip shows them
    netsim.assert_babel_route(sim, "n1", "n3", via="n2", within=30)

    # a capture on n2's link to n1 sees n1's pings to n3 cross it
    pcap = tmp_path / "n2.pcap"
    with sim.capture("n2", pcap, interface="eth0", filter="icmp") as cap:
        sim.exec("n1", "ping -c 2 -W 2 10.13.0.3")
    assert cap.result.packets >= 4 and cap.result.interface == "eth0", cap.result
    assert pcap.read_bytes()[:4] == bytes.fromhex("d4c3b2a1")

    # cut n1 -- n2: n1 loses n3; heal it: the mesh converges again
    link = sim.link("n1", "n2")
    link.down()
    assert link.state()["state"] == "down"
    assert not sim.reaches("n1", "n3", timeout=2)
    link.up()
    assert link.state()["state"] == "up"
    conv = sim.converge(timeout=60)
    assert conv.converged, conv

    # shaping: rate works on any kernel; netem needs sch_netem
    link.set(rate="10mbit")
    assert link.state()["quality"] == {"rate": "10mbit"}
    link.clear()
    if netsim.missing("netem"):
        with pytest.raises(netsim.NetsimError, match="sch_netem"):
            link.set(loss="5%")

    # restart the middle node: new PID 1, and routing comes back
    n2 = sim.node("n2")
    old = n2.info.pid
    res = n2.restart()
    assert res.state == "running" and res.stopped_pid == old and res.pid not in (0, old)
    assert "meshlite: starting" in n2.log()
    netsim.assert_all_reach(sim, within=60)


def test_down_leaves_nothing(sim):
    sim.down()
    assert leftovers(SIM) == []
    sim.down()  # idempotent
