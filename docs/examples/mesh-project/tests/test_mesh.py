"""Tests of an example mesh project, written with netsim's pytest plugin
(docs/python.md) and run in CI by the workflow in docs/ci.md.

The sim comes up once for the module and always goes down; when a test fails,
every node's log, the sim's status and a pcap per node land in
--netsim-artifacts DIR, which the workflow uploads.
"""

from pathlib import Path

import pytest

from netsim import assert_all_reach, assert_babel_route, assert_batman_originator

TOPOLOGY = Path(__file__).with_name("mesh.conf")
pytestmark = pytest.mark.netsim_needs("root", "meshlite")


@pytest.fixture(scope="module")
def mesh(netsim_module_up):
    return netsim_module_up(TOPOLOGY, converge=60)


def test_every_node_reaches_every_node(mesh):
    assert_all_reach(mesh, within=30)


def test_our_package_files_are_on_every_node(mesh):
    for node in mesh.nodes:
        assert mesh.exec(node, "cat /etc/mesh-hello/greeting").stdout == "hello from mesh-hello\n"


def test_babel_routes_n1_to_n3_through_n2(mesh):
    assert_babel_route(mesh, "n1", "n3", via="n2", within=30)


def test_the_mesh_heals_after_a_cut(mesh):
    link = mesh.link("n1", "n2")
    link.down()
    try:
        assert not mesh.reaches("n1", "n3", timeout=2)
    finally:
        link.up()
    assert_all_reach(mesh, within=60)


@pytest.mark.netsim_needs("batman-adv")
def test_batman_lists_the_neighbour(mesh):
    if mesh.exec("n1", "command -v batctl", check=False).returncode != 0:
        pytest.skip("this rootfs has no batctl (meshlite runs babeld; use a LibreMesh rootfs)")
    assert_batman_originator(mesh, "n1", "n2", within=30)
