"""Shared fixtures of the Python package's tests (run by tests/integration/92-python.t).

The package is used from the checkout (netsim/python/src), not installed;
its plugin is loaded here unless an installed copy already registers it.
"""

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
SRC = TOP / "netsim" / "python" / "src"
sys.path.insert(0, str(SRC))

_installed = any(ep.value == "netsim.pytest_plugin"
                 for ep in importlib.metadata.entry_points().select(group="pytest11"))
pytest_plugins = [] if _installed else ["netsim.pytest_plugin"]


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """A fake netsim binary (fake_netsim.py) as $NETSIM; .calls() lists the argvs it got."""
    d = tmp_path / "fake"
    d.mkdir()
    binary = d / "netsim"
    binary.write_text("#!%s\nimport runpy, sys\nsys.argv[0] = %r\nrunpy.run_path(%r, run_name='__main__')\n"
                      % (sys.executable, str(binary), str(Path(__file__).with_name("fake_netsim.py"))))
    binary.chmod(0o755)
    monkeypatch.setenv("NETSIM", str(binary))
    monkeypatch.setenv("FAKE_NETSIM_DIR", str(d))
    (tmp_path / "3node.conf").write_text((TOP / "topologies" / "3node.conf").read_text())

    class Fake:
        path = binary
        dir = d
        topology = tmp_path / "3node.conf"

        @staticmethod
        def calls():
            f = d / "calls"
            return [json.loads(l) for l in f.read_text().splitlines()] if f.exists() else []

        @staticmethod
        def sims():
            s = d / "sims"
            return sorted(p.stem for p in s.iterdir()) if s.exists() else []

        @staticmethod
        def canned(answers):
            (d / "exec.json").write_text(json.dumps(answers))

    return Fake


def run_pytest(args, cwd, env=None, **kw):
    """An inner pytest run with the checkout's package and plugin."""
    e = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    e.update(env or {})
    plugin = [] if _installed else ["-p", "netsim.pytest_plugin"]
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"] + plugin + args,
                          cwd=cwd, env=e, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, **kw)
