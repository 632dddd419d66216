"""netsim from Python: drive the netsim binary through its --json outputs.

    from netsim import Sim
    with Sim.up("topologies/3node.conf", name="lab") as sim:
        sim.converge(timeout=30)
        print(sim.exec("n1", "ip route").stdout)
        sim.link("n1", "n2").down()

The pytest plugin (netsim.pytest_plugin, loaded through the pytest11 entry
point) adds the netsim_up / netsim_module_up fixtures and the netsim_needs
marker; netsim.mesh has the mesh assertions.  See docs/python.md.
"""

from ._run import NetsimError, NetsimTimeout, find_binary
from .sim import Capture, ExecError, ExecResult, Link, Node, Result, Sim
from .mesh import (assert_all_reach, assert_babel_route, assert_batman_originator,
                   babel_routes, batman_originators)
from .needs import missing, require

__version__ = "0.1.0"
__all__ = ["Sim", "Node", "Link", "Capture", "Result", "ExecResult", "ExecError",
           "NetsimError", "NetsimTimeout", "find_binary", "assert_all_reach",
           "assert_babel_route", "assert_batman_originator", "babel_routes",
           "batman_originators", "missing", "require"]
