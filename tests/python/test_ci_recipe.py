"""docs/ci.md's GitHub Actions workflow, executed here so the recipe cannot rot.

The project is docs/examples/mesh-project (copied to a temporary directory),
netsim is this checkout (linked in as the project's `netsim/`), and every
`run:` step runs as Actions runs it (bash -eo pipefail, the workflow's env).
Not run for real, each with the reason printed:
  - `uses:` steps (checkout, upload-artifact): GitHub's own actions;
  - apt-get: a shim runs the real apt-get only when a package it is asked
    for is not installed (then it updates and installs from the mirror);
  - sudo: we are root already; a shim runs the command;
  - python3: the interpreter running these tests (the one with pytest);
  - the rootfs step, when this checkout's meshlite tarball is not up to date
    (`make -q`): the machine's tests use $NETSIM_ROOTFS_DIR instead.
"""

import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import TOP

yaml = pytest.importorskip("yaml", reason="python3-yaml not installed (reads the workflow)")


APT_SHIM = r'''#!/bin/sh
# apt-get as the recipe test runs it: nothing from the mirror unless needed.
real=/usr/bin/apt-get
case "$1" in
update) echo "recipe test: apt-get update deferred until a package is missing"; exit 0 ;;
install)
	missing=
	for a in "$@"; do
		case "$a" in install|-*) continue ;; esac
		dpkg-query -W -f='${Status}' "$a" 2>/dev/null | grep -q "install ok installed" ||
			missing="$missing $a"
	done
	if [ -z "$missing" ]; then
		echo "recipe test: apt-get $*: all installed, mirror not contacted"; exit 0
	fi
	echo "recipe test: missing:$missing; installing from the mirror"
	$real update && exec $real "$@" ;;
esac
exec $real "$@"
'''
SUDO_SHIM = '#!/bin/sh\n# we are root: run the command as it is\nexec "$@"\n'


def workflow():
    text = (TOP / "docs" / "ci.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    flows = [yaml.safe_load(b) for b in blocks if "jobs:" in b]
    assert len(flows) == 1, "docs/ci.md holds exactly one workflow"
    return flows[0]


def test_workflow_shape():
    wf = workflow()
    assert set(wf) >= {"name", "env", "jobs"} and (wf.get("on") or wf.get(True))
    (job,) = wf["jobs"].values()
    assert job["runs-on"].startswith("ubuntu-")
    text = yaml.safe_dump(wf)
    assert "kvm" not in text.lower().replace("no kvm needed", "")
    upload = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert len(upload) == 1 and upload[0]["if"] == "failure()"
    assert upload[0]["with"]["path"] == "${{ env.ARTIFACTS }}"
    assert any("--netsim-artifacts" in s.get("run", "") for s in job["steps"])


@pytest.mark.netsim_needs("root", "meshlite")
def test_workflow_run_steps_work_here(tmp_path):
    wf = workflow()
    (job,) = wf["jobs"].values()
    project = tmp_path / "project"
    shutil.copytree(TOP / "docs" / "examples" / "mesh-project", project, symlinks=True)
    (project / wf["env"]["NETSIM_SRC"]).symlink_to(TOP)
    shims = tmp_path / "shims"
    shims.mkdir()
    # python3: the one running these tests (it has python3-pytest), whatever PATH says
    python3 = '#!/bin/sh\nexec %s "$@"\n' % sys.executable
    for name, text in (("apt-get", APT_SHIM), ("sudo", SUDO_SHIM), ("python3", python3)):
        (shims / name).write_text(text)
        (shims / name).chmod(0o755)
    env = dict(os.environ, PATH=str(shims) + os.pathsep + os.environ["PATH"],
               **{k: str(v) for k, v in wf["env"].items()})
    env.pop("NETSIM", None)  # the workflow says which binary
    build_out = [TOP / "netsim" / "python" / "build", TOP / "netsim" / "python" / "src" / "netsim.egg-info"]
    existed = [p.exists() for p in build_out]
    ran, skipped = [], []
    try:
        for step in job["steps"]:
            name = step.get("name", step.get("uses"))
            if "run" not in step:
                skipped.append("%s: a GitHub action, not a run: step" % name)
                continue
            if re.search(r"make -C \S+ rootfs", step["run"]) and subprocess.run(
                    ["make", "-q", "-C", str(TOP), "rootfs"], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL).returncode != 0:
                skipped.append("%s: this checkout's meshlite tarball is not up to date and "
                               "this machine's tests use $NETSIM_ROOTFS_DIR instead of "
                               "rebuilding it" % name)
                continue
            r = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                               cwd=project, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=600)
            assert r.returncode == 0, "step %r failed:\n%s" % (name, r.stdout[-4000:])
            ran.append((name, r.stdout))
    finally:
        for p, was in zip(build_out, existed):
            if not was:
                shutil.rmtree(p, ignore_errors=True)
    for s in skipped:
        print("skipped step:", s)
    names = [n for n, _ in ran]
    assert "Run the mesh tests" in names and "Lay the project's package files over the rootfs" in names
    out = dict(ran)["Run the mesh tests"]
    assert re.search(r"\b4 passed, 1 skipped\b", out), out
    assert (project / "tests" / "overlay" / "etc" / "mesh-hello" / "greeting").exists()
    assert not (project / wf["env"]["ARTIFACTS"]).exists(), "no test failed, nothing saved"
    # the package came from the venv's install, with its pytest11 entry point
    assert list((project / ".venv").glob("lib/python3*/site-packages/netsim/pytest_plugin.py"))
    assert "plugins: netsim" in out or "netsim-0.1.0" in out, out
