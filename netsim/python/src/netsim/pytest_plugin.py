"""The pytest plugin of netsim (entry point pytest11 `netsim`; or `-p netsim.pytest_plugin`).

Fixtures
  netsim_up         a factory: netsim_up(TOPOLOGY, name=None, capture=True,
                    converge=None) brings a sim up for this test and returns a
                    Sim; the sim always goes down after the test.
  netsim_module_up  the same, but the sims live until the module's last test.

When a test fails (or is interrupted), every node's console log (`netsim log`),
the sim's status and a pcap per node (captured from just after up) are saved to
--netsim-artifacts DIR/<test id>/<sim>/ (default: under pytest's basetemp);
the summary at the end says where.  SIGTERM and SIGHUP become
KeyboardInterrupt, so pytest tears down as for Ctrl-C and the sims go down;
an exit handler downs any sim still up after that.

Marker
  @pytest.mark.netsim_needs("root", "netem", ...): skip unless this machine has
  every feature (netsim.needs: root, netsim, meshlite, netem, batman-adv,
  8021q, mac80211_hwsim, kvm, or a program in PATH).
"""

import atexit
import json
import os
import re
import shutil
import signal
import tempfile

import pytest

from . import needs
from ._run import NetsimError, run
from .mesh import assert_all_reach
from .sim import Sim, _live, _live_lock

_REPORTS = pytest.StashKey[dict]()
_ARTIFACT_DIRS = pytest.StashKey[list]()


def pytest_addoption(parser):
    group = parser.getgroup("netsim")
    group.addoption("--netsim", dest="netsim_binary", default=None, metavar="PATH",
                    help="the netsim binary (default: $NETSIM, then netsim in PATH)")
    group.addoption("--netsim-artifacts", dest="netsim_artifacts", default=None, metavar="DIR",
                    help="where logs, status and pcaps of failed tests go "
                         "(DIR/<test id>/<sim>/; default: under pytest's basetemp)")
    group.addoption("--netsim-no-capture", dest="netsim_no_capture", action="store_true",
                    help="do not capture packets on every node while a test runs")


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt("netsim plugin: signal %d" % signum)


def _down_leftovers():
    """Last resort at interpreter exit: a sim this process still has up."""
    with _live_lock:
        left = list(_live.items())
    for name, binary in left:
        try:
            run(binary, ["down", name], check=False, timeout=60)
        except Exception:
            pass


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "netsim_needs(*features): skip unless this machine has every feature "
        "(root, netsim, meshlite, netem, batman-adv, 8021q, mac80211_hwsim, kvm, "
        "or a program in PATH)")
    config.stash[_ARTIFACT_DIRS] = []
    if config.getoption("netsim_binary"):
        os.environ["NETSIM"] = os.path.abspath(config.getoption("netsim_binary"))
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) == signal.SIG_DFL:
            signal.signal(sig, _raise_interrupt)
    atexit.register(_down_leftovers)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    for marker in item.iter_markers("netsim_needs"):
        reasons = needs.require(*marker.args)
        if reasons:
            pytest.skip("netsim_needs: " + "; ".join(reasons))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    if report.when == "call" and report.failed:
        # sims of a module fixture stay up: keep their logs as they are now
        for value in getattr(item, "funcargs", {}).values():
            if isinstance(value, _Factory) and value.scope == "module":
                value.save(_artifact_dir(item.config, item.nodeid), pcaps=False)


def pytest_terminal_summary(terminalreporter, config):
    dirs = config.stash.get(_ARTIFACT_DIRS, [])
    if dirs:
        terminalreporter.section("netsim artifacts")
        for d in dirs:
            terminalreporter.write_line(d)


def _artifact_dir(config, nodeid):
    base = config.getoption("netsim_artifacts")
    if base is None:
        base = os.path.join(str(config._tmp_path_factory.getbasetemp()), "netsim-artifacts") \
            if hasattr(config, "_tmp_path_factory") else os.path.join(tempfile.gettempdir(),
                                                                      "netsim-artifacts")
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")[:150] or "session"
    path = os.path.join(os.path.abspath(base), safe)
    os.makedirs(path, exist_ok=True)
    if path not in config.stash[_ARTIFACT_DIRS]:
        config.stash[_ARTIFACT_DIRS].append(path)
    return path


class _Factory:
    """Brings sims up for one test (or module) and takes them all down."""

    def __init__(self, request, scope):
        self.request = request
        self.scope = scope
        self.sims = []
        self._captures = {}
        self._pcap_dir = tempfile.mkdtemp(prefix="netsim-pcap-")
        self._capture_default = not request.config.getoption("netsim_no_capture")

    def _resolve(self, path):
        path = os.fspath(path)
        if os.path.isabs(path) or os.path.exists(path):
            return path
        beside = os.path.join(os.path.dirname(str(self.request.path)), path)
        return beside if os.path.exists(beside) else path

    def __call__(self, topology, name=None, capture=None, converge=None):
        """Bring TOPOLOGY up (as `netsim up -n NAME`); capture: True (every node),
        False, or a list of nodes; converge: wait until all reach all within
        that many seconds (AssertionError otherwise)."""
        sim = Sim.up(self._resolve(topology), name=name)
        self.sims.append(sim)
        capture = self._capture_default if capture is None else capture
        if capture:
            nodes = sim.nodes if capture is True else list(capture)
            os.makedirs(os.path.join(self._pcap_dir, sim.name), exist_ok=True)
            self._captures[sim.name] = [
                sim.capture(n, os.path.join(self._pcap_dir, sim.name, n + ".pcap")) for n in nodes]
        if converge:
            assert_all_reach(sim, within=converge)
        return sim

    def save(self, dest, pcaps=True):
        """Logs, status and (pcaps) the captures of every sim into dest/SIM/."""
        for sim in self.sims:
            out = os.path.join(dest, sim.name)
            os.makedirs(out, exist_ok=True)
            try:
                with open(os.path.join(out, "status.json"), "w") as f:
                    json.dump(sim.status(), f, indent=1)
                for node in sim.nodes:
                    with open(os.path.join(out, node + ".log"), "w") as f:
                        f.write(sim.node(node).log())
            except NetsimError as e:
                with open(os.path.join(out, "errors.txt"), "a") as f:
                    f.write("%s\n" % e)
            if pcaps:
                src = os.path.join(self._pcap_dir, sim.name)
                for name in os.listdir(src) if os.path.isdir(src) else []:
                    shutil.move(os.path.join(src, name), os.path.join(out, name))

    def finish(self, failed, nodeid):
        try:
            for caps in self._captures.values():
                for cap in caps:
                    try:
                        cap.stop()
                    except NetsimError:
                        pass
            if failed and self.sims:
                self.save(_artifact_dir(self.request.config, nodeid))
        finally:
            errors = []
            for sim in reversed(self.sims):
                try:
                    sim.down()
                except NetsimError as e:
                    errors.append(str(e))
            shutil.rmtree(self._pcap_dir, ignore_errors=True)
            if errors:
                raise NetsimError("netsim down failed: " + "; ".join(errors))


def _test_failed(item):
    reports = item.stash.get(_REPORTS, {})
    if any(r.failed for r in reports.values()):
        return True
    # interrupted (Ctrl-C, SIGTERM) after setup: no call report
    return "call" not in reports and "setup" in reports and reports["setup"].passed


@pytest.fixture
def netsim_up(request):
    """netsim_up(TOPOLOGY, name=None, capture=True, converge=None) -> Sim, down after the test."""
    factory = _Factory(request, "function")
    try:
        yield factory
    finally:
        factory.finish(_test_failed(request.node), request.node.nodeid)


@pytest.fixture(scope="module")
def netsim_module_up(request):
    """As netsim_up, but the sims stay up for the whole module."""
    factory = _Factory(request, "module")
    try:
        yield factory
    finally:
        failed = any(_test_failed(i) for i in request.session.items
                     if i.module is request.module and _REPORTS in i.stash)
        factory.finish(failed, request.node.nodeid)
