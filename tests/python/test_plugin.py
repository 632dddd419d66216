"""The pytest plugin, in inner pytest runs against the fake netsim: the sim
always goes down (pass, fail, Ctrl-C, SIGTERM), failed tests keep logs,
status and pcaps, markers skip with a reason."""

import json
import os
import signal
import subprocess
import sys
import time

from conftest import SRC, _installed, run_pytest

def default_sigint():
    """A job started in the background by a shell (prove under `&`, CI runners)
    inherits SIGINT ignored, and Python then never raises KeyboardInterrupt;
    the child gets SIGINT's default back, as under a terminal's Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


TESTS = '''
import pytest, time, os

TOPO = os.environ["TOPO"]

def test_pass(netsim_up):
    sim = netsim_up(TOPO, name="pyplug")
    assert sim.exec("n1", "echo ok").stdout == "ok\\n"

def test_fail(netsim_up):
    sim = netsim_up(TOPO, name="pyfail")
    sim.link("n1", "n2").down()
    assert sim.converge(timeout=1).converged, "n1 cannot reach n3"

def test_no_capture(netsim_up):
    netsim_up(TOPO, name="pynocap", capture=False)

def test_converge_option(netsim_up):
    sim = netsim_up(TOPO, name="pyconv", converge=5)
    assert sim.name == "pyconv"

@pytest.mark.netsim_needs("bin:no-such-program-here", "netsim")
def test_needs_missing():
    raise AssertionError("must have been skipped")

@pytest.mark.netsim_needs("netsim", "sh")
def test_needs_present():
    pass
'''


def calls(fake):
    return [" ".join(c[:3]) for c in fake.calls()]


def test_pass_fail_skip_and_artifacts(fake, tmp_path):
    (tmp_path / "test_inner.py").write_text(TESTS)
    art = tmp_path / "art"
    r = run_pytest(["-rs", "--netsim-artifacts", str(art), "test_inner.py"], cwd=tmp_path,
                   env={"TOPO": str(fake.topology)})
    out = r.stdout
    assert "1 failed, 4 passed, 1 skipped" in out, out
    assert "netsim_needs: no-such-program-here not found in PATH" in out
    assert fake.sims() == [], "every sim went down"
    c = fake.calls()
    downs = sorted(x[1] for x in c if x[0] == "down")
    assert downs == ["pyconv", "pyfail", "pynocap", "pyplug"]
    captures = [x for x in c if x[0] == "capture"]
    assert len(captures) == 9, "one capture per node, except capture=False"
    assert not any(x[0] == "capture" and x[2] == "pynocap" for x in c)
    assert ["converge", "--json", "-s", "pyconv", "--timeout", "5"] in c
    # only the failed test left artifacts: logs, status, pcaps
    dirs = os.listdir(art)
    assert dirs == ["test_inner.py_test_fail"], dirs
    saved = art / dirs[0] / "pyfail"
    assert sorted(os.listdir(saved)) == ["n1.log", "n1.pcap", "n2.log", "n2.pcap", "n3.log",
                                         "n3.pcap", "status.json"]
    assert (saved / "n2.log").read_text() == "fake console of n2 in pyfail\n"
    st = json.loads((saved / "status.json").read_text())
    assert st["links"][0]["state"] == "down", "status as it was when the test failed"
    assert (saved / "n1.pcap").read_bytes()[:4] == bytes.fromhex("d4c3b2a1")
    assert "netsim artifacts" in out and str(saved.parent) in out


def test_default_artifact_dir_is_under_basetemp(fake, tmp_path):
    (tmp_path / "test_inner.py").write_text(TESTS)
    base = tmp_path / "base"
    r = run_pytest(["--basetemp", str(base), "-k", "test_fail", "test_inner.py"], cwd=tmp_path,
                   env={"TOPO": str(fake.topology)})
    assert "1 failed" in r.stdout, r.stdout
    assert (base / "netsim-artifacts" / "test_inner.py_test_fail" / "pyfail" / "n3.log").exists()


def test_module_scope_shares_a_sim(fake, tmp_path):
    (tmp_path / "test_mod.py").write_text('''
import os
def test_one(netsim_module_up):
    sim = netsim_module_up(os.environ["TOPO"], name="pymod")
    sim.link("n1", "n2").down()

def test_two(netsim_module_up):
    assert netsim_module_up.sims[0].link("n1", "n2").state()["state"] == "down"
    assert False, "fails on purpose"

def test_three():
    pass
''')
    # the fixture's sims are its .sims; a module factory is called once
    art = tmp_path / "art"
    r = run_pytest(["--netsim-artifacts", str(art), "test_mod.py"], cwd=tmp_path,
                   env={"TOPO": str(fake.topology)})
    assert "1 failed, 2 passed" in r.stdout, r.stdout
    c = fake.calls()
    assert [x[0] for x in c].count("up") == 1
    assert fake.sims() == []
    # test_two's failure: logs at that moment; the module's end: logs and pcaps
    assert (art / "test_mod.py_test_two" / "pymod" / "n1.log").exists()
    assert not (art / "test_mod.py_test_two" / "pymod" / "n1.pcap").exists()
    assert (art / "test_mod.py" / "pymod" / "n1.pcap").exists()


HANG = '''
import os, time
def test_hangs(netsim_up):
    sim = netsim_up(os.environ["TOPO"], name="pyhang")
    open(os.environ["READY"], "w").close()
    sim.exec("n1", "sleep 60")
'''


def _interrupt(fake, tmp_path, sig):
    (tmp_path / "test_hang.py").write_text(HANG)
    ready = tmp_path / "ready"
    env = dict(os.environ, TOPO=str(fake.topology), READY=str(ready),
               PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    plugin = [] if _installed else ["-p", "netsim.pytest_plugin"]
    p = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"] + plugin +
                         ["--netsim-artifacts", str(tmp_path / "art"), "test_hang.py"],
                         cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, preexec_fn=default_sigint)
    for _ in range(400):
        if ready.exists():
            break
        time.sleep(0.05)
    assert ready.exists(), "inner test did not start"
    time.sleep(0.3)
    t0 = time.monotonic()
    p.send_signal(sig)
    out, _ = p.communicate(timeout=60)
    return p.returncode, out, time.monotonic() - t0


def _no_fake_left(fake):
    """No fake netsim process of this test still runs (captures, exec)."""
    left = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    if str(fake.path).encode() in f.read():
                        left.append(pid)
            except OSError:
                pass
    return left


def test_sigterm_brings_the_sim_down(fake, tmp_path):
    rc, out, took = _interrupt(fake, tmp_path, signal.SIGTERM)
    assert rc == 2 and "KeyboardInterrupt" in out, out
    assert took < 30
    assert fake.sims() == [], "SIGTERM: the sim went down"
    assert ["down", "pyhang"] in fake.calls()
    assert (tmp_path / "art" / "test_hang.py_test_hangs" / "pyhang" / "n2.pcap").exists()
    assert _no_fake_left(fake) == []


def test_ctrl_c_brings_the_sim_down(fake, tmp_path):
    rc, out, took = _interrupt(fake, tmp_path, signal.SIGINT)
    assert rc == 2, out
    assert fake.sims() == [], "Ctrl-C: the sim went down"
    assert (tmp_path / "art" / "test_hang.py_test_hangs" / "pyhang" / "n1.log").exists()
    assert _no_fake_left(fake) == []
