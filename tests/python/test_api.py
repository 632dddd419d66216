"""The Python API against a fake netsim binary: which argv each method runs,
how --json results and netsim's errors come back.  No root needed."""

import os
import signal
import subprocess
import sys
import time

import pytest

import netsim
from netsim import NetsimError, Sim

def default_sigint():
    """A job started in the background by a shell (prove under `&`, CI runners)
    inherits SIGINT ignored, and Python then never raises KeyboardInterrupt;
    the child gets SIGINT's default back, as under a terminal's Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)



def test_up_uses_json_and_the_given_name(fake):
    sim = Sim.up(fake.topology, name="pyapi")
    assert sim.name == "pyapi"
    assert sim.nodes == ["n1", "n2", "n3"]
    assert fake.calls()[0] == ["up", "--json", "-n", "pyapi", str(fake.topology)]
    sim.down()
    assert fake.sims() == []


def test_up_without_name_takes_the_sim_netsim_chose(fake):
    with Sim.up(fake.topology) as sim:
        assert sim.name == "3node"
        assert fake.sims() == ["3node"]
    assert fake.sims() == [], "the with-block brings the sim down"


def test_error_carries_netsims_message_and_exit_status(fake):
    Sim.up(fake.topology, name="pyapi")
    with pytest.raises(NetsimError) as e:
        Sim.up(fake.topology, name="pyapi")
    assert e.value.returncode == 1
    assert e.value.message == ("netsim: up pyapi: sim pyapi is already up "
                               "(stop it with `netsim down pyapi`)")
    assert e.value.command[1:] == ["up", "--json", "-n", "pyapi", str(fake.topology)]
    assert "exit status 1" in str(e.value)


def test_usage_error_is_exit_status_2(fake, monkeypatch):
    sim = Sim.up(fake.topology, name="pyapi")
    monkeypatch.setenv("FAKE_NETSIM_FAIL", "link:2:link: bad")
    with pytest.raises(NetsimError) as e:
        sim.link("n1", "n2").down()
    assert e.value.usage and e.value.message == "netsim: link: bad"


def test_missing_binary_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("NETSIM", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(NetsimError, match="netsim binary not found"):
        Sim.up("x.conf")
    with pytest.raises(NetsimError, match="not an executable file"):
        Sim.up("x.conf", netsim="/nonexistent/netsim")


def test_exec_string_list_status_and_check(fake):
    sim = Sim.up(fake.topology, name="pyapi")
    res = sim.exec("n1", "echo hello; echo oops >&2")
    assert (res.returncode, res.stdout, res.stderr) == (0, "hello\n", "oops\n")
    assert fake.calls()[-1] == ["exec", "-s", "pyapi", "-T", "n1", "--", "sh", "-c",
                                "echo hello; echo oops >&2"]
    assert sim.exec("n2", ["printf", "%s-%s", "a b", "c"]).stdout == "a b-c"
    assert sim.exec("n1", "exit 3", check=False).returncode == 3
    with pytest.raises(netsim.ExecError) as e:
        sim.exec("n1", "echo why >&2; exit 4")
    assert e.value.returncode == 4 and "why" in e.value.message
    with pytest.raises(NetsimError, match="has no node n9"):
        sim.exec("n9", "true")
    assert sim.node("n3").exec("echo hi").stdout == "hi\n"


def test_link_down_up_set_clear_and_state(fake):
    sim = Sim.up(fake.topology, name="pyapi")
    link = sim.link("n1", "n2")
    assert link.state()["state"] == "up"
    link.down()
    assert link.state()["state"] == "down"
    assert fake.calls()[-2] == ["link", "-s", "pyapi", "n1", "n2", "down"]
    assert not sim.converge(timeout=1).converged
    link.up()
    assert sim.converge(timeout=1).converged
    link.set(rate="1mbit")
    assert fake.calls()[-1] == ["link", "-s", "pyapi", "n1", "n2", "set", "rate=1mbit"]
    assert sim.link("n2:eth0", "n1:eth0").state()["quality"] == {"rate": "1mbit"}
    link.clear("rate")
    assert link.state()["quality"] == {}
    with pytest.raises(NetsimError, match="sch_netem"):
        link.set(loss="5%", delay="10ms")
    with pytest.raises(ValueError):
        link.set()
    with pytest.raises(NetsimError, match="not linked"):
        sim.link("n1", "n3").down()


def test_converge_and_reach_results(fake):
    sim = Sim.up(fake.topology, name="pyapi")
    res = sim.converge(timeout=5)
    assert res.converged and res.pairs == 6 and res.missing == []
    assert fake.calls()[-1] == ["converge", "--json", "-s", "pyapi", "--timeout", "5"]
    sim.link("n2", "n3").down()
    res = sim.converge(timeout=2)
    assert not res["converged"] and ["n1", "n3"] in res["missing"] and res.pairs_ok == 2
    r = sim.reach(timeout=1)
    assert r.nodes == ["n1", "n2", "n3"] and r.matrix[0][1] is True and r.matrix[0][2] is False
    assert sim.reaches("n1", "n2", timeout=1) and not sim.reaches("n3", "n1", timeout=1)
    with pytest.raises(AssertionError, match="missing: .*n1->n3"):
        netsim.assert_all_reach(sim, within=1)


def test_node_restart_stop_start_log(fake):
    sim = Sim.up(fake.topology, name="pyapi")
    n2 = sim.node("n2")
    before = n2.info.pid
    res = n2.restart()
    assert res.stopped_pid == before and res.pid != before and res.state == "running"
    assert fake.calls()[-1] == ["node", "-s", "pyapi", "n2", "restart", "--json"]
    n2.restart(reset=True, timeout=2)
    assert fake.calls()[-1] == ["node", "-s", "pyapi", "n2", "restart", "--json", "--reset",
                                "--timeout", "2"]
    assert n2.stop().state == "stopped" and n2.info.state == "stopped"
    assert n2.start().state == "running"
    assert n2.log() == "fake console of n2 in pyapi\n"


def test_capture_by_count_and_by_stop(fake, tmp_path):
    sim = Sim.up(fake.topology, name="pyapi")
    res = sim.capture("n1", tmp_path / "a.pcap", interface="eth0", count=3, filter="udp port 6696").wait(10)
    assert res.packets == 3 and res.interface == "eth0"
    assert fake.calls()[-1] == ["capture", "-s", "pyapi", "n1:eth0", "-w", str(tmp_path / "a.pcap"),
                                "--json", "-c", "3", "udp", "port", "6696"]
    with sim.capture("n2", tmp_path / "b.pcap") as cap:
        assert cap.running
    assert not cap.running and cap.result.node == "n2"
    assert (tmp_path / "b.pcap").read_bytes()[:4] == bytes.fromhex("d4c3b2a1")
    with pytest.raises(NetsimError, match="has no node n9"):
        sim.capture("n9", tmp_path / "c.pcap")


def test_status_and_attach(fake):
    Sim.up(fake.topology, name="pyapi")
    sim = Sim.attach("pyapi")
    st = sim.status()
    assert st.sim == "pyapi" and st.nodes[0]["addr"] == "10.13.0.1/32"
    assert [l["a"] for l in st.links] == ["n1:eth0", "n2:eth1"]
    with pytest.raises(NetsimError, match="not up"):
        Sim.attach("pynope")


def test_timeout_stops_netsim_with_sigterm(fake):
    sim = Sim.up(fake.topology, name="pyapi")
    t0 = time.monotonic()
    with pytest.raises(netsim.NetsimTimeout):
        sim.exec("n1", "sleep 30", timeout=0.5)
    assert time.monotonic() - t0 < 10


def test_interrupt_forwards_sigterm_to_netsim(fake, tmp_path):
    """Ctrl-C in Python while netsim runs: netsim gets SIGTERM (up rolls back
    on it) and is waited for, so no netsim process outlives the caller."""
    script = tmp_path / "interrupted.py"
    pidfile = tmp_path / "child.pid"
    script.write_text(
        "import sys; sys.path.insert(0, %r)\n"
        "from netsim import Sim\n"
        "sim = Sim.up(%r, name='pyint')\n"
        "sim.exec('n1', 'echo $$ > %s; exec sleep 30')\n" % (
            str(netsim.__path__[0].rsplit(os.sep, 1)[0]), str(fake.topology), pidfile))
    p = subprocess.Popen([sys.executable, str(script)], stderr=subprocess.PIPE, text=True,
                         preexec_fn=default_sigint)
    for _ in range(200):
        if pidfile.exists() and pidfile.read_text().strip():
            break
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=20)
    assert "KeyboardInterrupt" in err
    child = int(pidfile.read_text())
    time.sleep(0.2)
    assert not os.path.exists("/proc/%d" % child) or \
        "Z" in open("/proc/%d/stat" % child).read().split()[2]
