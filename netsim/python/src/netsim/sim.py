"""Sim, Node, Link, Capture: a running sim as Python objects.

Each method is one netsim verb (`netsim VERB -s SIM ... [--json]`); nothing
here knows how netsim does its work, so the binary stays the one
implementation.  Results of --json verbs are Result dicts (also readable as
attributes: `sim.converge().seconds`).
"""

import json
import os
import subprocess
import threading

from ._run import NetsimError, NetsimTimeout, _netsim_message, _stop, find_binary, run, run_json

# Sims this process brought up and has not brought down yet (the pytest
# plugin's last-resort cleanup at exit reads it).
_live = {}
_live_lock = threading.Lock()


class Result(dict):
    """A JSON object from netsim; keys are also attributes."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


class ExecResult:
    """What `netsim exec` returned: the command's exit status and output."""

    def __init__(self, returncode, stdout, stderr):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    @property
    def ok(self):
        return self.returncode == 0

    def __repr__(self):
        return "ExecResult(returncode=%d, stdout=%r, stderr=%r)" % (
            self.returncode, self.stdout[:80], self.stderr[:80])


class ExecError(NetsimError):
    """A command run with exec(check=True) exited with a non-zero status."""


def _command(cmd):
    """A string runs through the node's /bin/sh; a list is argv as it is."""
    if isinstance(cmd, str):
        return ["sh", "-c", cmd]
    return [str(c) for c in cmd]


class Sim:
    """A running sim.  Sim.up() starts one, Sim.attach() takes one that is up."""

    def __init__(self, name, netsim=None, status=None):
        self.name = name
        self.netsim = find_binary(netsim)
        self._status = Result(status) if status else None

    # ---- lifecycle -------------------------------------------------------

    @classmethod
    def up(cls, path, name=None, netsim=None, timeout=None):
        """`netsim up --json [-n NAME] PATH`: all or nothing, as netsim's up."""
        binary = find_binary(netsim)
        args = ["up", "--json"] + (["-n", name] if name else []) + [os.fspath(path)]
        _, status = run_json(binary, args, timeout=timeout)
        sim = cls(status["sim"], binary, status)
        with _live_lock:
            _live[sim.name] = binary
        return sim

    @classmethod
    def attach(cls, name, netsim=None):
        """A sim that is already up (e.g. started by a CI step)."""
        sim = cls(name, netsim)
        sim.status()
        return sim

    def down(self):
        """`netsim down SIM`: removes everything; idempotent."""
        self._run(["down", self.name])
        with _live_lock:
            _live.pop(self.name, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.down()
        return False

    # ---- looking -------------------------------------------------------------

    def _run(self, args, **kw):
        return run(self.netsim, args, **kw)

    def status(self):
        """`netsim status --json`: nodes (state, pid, addr, addr6, ...), links
        (a, b, state, quality), segments."""
        _, self._status = run_json(self.netsim, ["status", "--json", "-s", self.name])
        self._status = Result(self._status)
        return self._status

    @property
    def nodes(self):
        """Node names, in topology order."""
        return [n["name"] for n in (self._status or self.status())["nodes"]]

    def node(self, name):
        return Node(self, name)

    def link(self, *endpoints):
        """A link by its two nodes (`"n1", "n2"`, or `"n1:eth0", "n2:eth0"`),
        a segment by its name, or one segment member (`"air0", "n3"`)."""
        return Link(self, endpoints)

    # ---- doing -----------------------------------------------------------

    def exec(self, node, cmd, check=True, timeout=None, input=None):
        """Run cmd in node (`netsim exec -T`): a string through the node's sh,
        a list as argv.  Returns ExecResult; with check, a non-zero exit raises
        ExecError (returncode is the command's; 127: could not start)."""
        argv = ["exec", "-s", self.name, "-T", node, "--"] + _command(cmd)
        rc, out, err = self._run(argv, check=False, timeout=timeout, input=input)
        if check and rc != 0:
            raise ExecError("exec in %s: %r exited with status %d%s" % (
                node, cmd, rc, (": " + err.strip()[-500:]) if err.strip() else ""),
                rc, [self.netsim] + argv, out, err)
        return ExecResult(rc, out, err)

    def converge(self, timeout=60):
        """`netsim converge --json`: waits until every node reaches every node.
        Returns converged, seconds, pairs_ok, pairs, missing; a timeout is a
        result (converged false), not an exception."""
        _, res = run_json(self.netsim, ["converge", "--json", "-s", self.name,
                                        "--timeout", timeout], ok_codes=(0, 1))
        return Result(res)

    def reach(self, timeout=10):
        """`netsim reach --json`: the all-pairs matrix (nodes, matrix, rtt_ms,
        pairs_ok, pairs, seconds)."""
        _, res = run_json(self.netsim, ["reach", "--json", "-s", self.name,
                                        "--timeout", timeout], ok_codes=(0, 1))
        return Result(res)

    def reaches(self, a, b, timeout=10):
        """Whether a reached b in a reach run (True/False)."""
        res = self.reach(timeout)
        names = res["nodes"]
        return bool(res["matrix"][names.index(a)][names.index(b)])

    def capture(self, node, path, interface=None, count=None, duration=None, filter=None):
        """Start `netsim capture --json` of node (all interfaces, or one) into
        the pcap file path.  Returns a running Capture: .wait() when count or
        duration ends it, .stop() otherwise; a with-block stops it."""
        return Capture(self, node, path, interface, count, duration, filter)

    def run(self, scenario, timeout=None):
        """`netsim run --json SCENARIO`; a failed expectation is a result."""
        _, res = run_json(self.netsim, ["run", "--json", "-s", self.name, os.fspath(scenario)],
                          timeout=timeout, ok_codes=(0, 1))
        return Result(res)

    def __repr__(self):
        return "Sim(%r)" % self.name


class Node:
    def __init__(self, sim, name):
        self.sim = sim
        self.name = name

    def _verb(self, action, *extra):
        _, res = run_json(self.sim.netsim, ["node", "-s", self.sim.name, self.name, action,
                                            "--json"] + list(extra))
        return Result(res)

    def stop(self, timeout=None):
        return self._verb("stop", *(["--timeout", timeout] if timeout is not None else []))

    def start(self, reset=False):
        return self._verb("start", *(["--reset"] if reset else []))

    def restart(self, reset=False, timeout=None):
        """`netsim node NODE restart --json`: sim, node, state, stopped_pid,
        killed, pid, seconds."""
        extra = (["--reset"] if reset else []) + (["--timeout", timeout] if timeout is not None else [])
        return self._verb("restart", *extra)

    def exec(self, cmd, **kw):
        return self.sim.exec(self.name, cmd, **kw)

    def log(self, raw=False):
        """The console output of the node's PID 1 (`netsim log`)."""
        _, out, _ = run(self.sim.netsim, ["log", "-s", self.sim.name] + (["--raw"] if raw else [])
                        + [self.name])
        return out

    def capture(self, path, **kw):
        return self.sim.capture(self.name, path, **kw)

    @property
    def info(self):
        """This node's entry of status(): state, pid, addr, addr6, ..."""
        for n in self.sim.status()["nodes"]:
            if n["name"] == self.name:
                return Result(n)
        raise NetsimError("sim %s has no node %s" % (self.sim.name, self.name))

    def __repr__(self):
        return "Node(%r, %r)" % (self.sim.name, self.name)


class Link:
    def __init__(self, sim, endpoints):
        if not 1 <= len(endpoints) <= 2:
            raise ValueError("link(): two nodes, a segment, or a segment and a member")
        self.sim = sim
        self.endpoints = [str(e) for e in endpoints]

    def _link(self, *words):
        run(self.sim.netsim, ["link", "-s", self.sim.name] + self.endpoints + list(words))
        return self

    def down(self):
        return self._link("down")

    def up(self):
        return self._link("up")

    def set(self, **quality):
        """Change the quality: set(rate="1mbit", delay="10ms", loss="5%");
        numbers are taken in netsim's default units.  Netem attributes need
        sch_netem in the kernel; netsim's refusal is a NetsimError."""
        if not quality:
            raise ValueError("set(): give at least one of rate, delay, jitter, loss, "
                             "duplicate, reorder")
        return self._link("set", *["%s=%s" % kv for kv in quality.items()])

    def clear(self, *attrs):
        return self._link("clear", *attrs)

    def state(self):
        """The link's entry of status() (a, b, state, quality), or the segment's."""
        st = self.sim.status()
        if len(self.endpoints) == 2:
            want = [e if ":" in e else e + ":" for e in self.endpoints]

            def matches(end, w):
                return end == w or (w.endswith(":") and end.startswith(w))

            for lk in st["links"]:
                if (matches(lk["a"], want[0]) and matches(lk["b"], want[1])) or \
                   (matches(lk["a"], want[1]) and matches(lk["b"], want[0])):
                    return Result(lk)
        for seg in st["segments"]:
            if seg["name"] == self.endpoints[0]:
                return Result(seg)
        raise NetsimError("sim %s has no link %s" % (self.sim.name, " ".join(self.endpoints)))

    def __repr__(self):
        return "Link(%r, %s)" % (self.sim.name, ", ".join(map(repr, self.endpoints)))


class Capture:
    """A running `netsim capture -w PATH --json`."""

    def __init__(self, sim, node, path, interface=None, count=None, duration=None, filter=None):
        self.path = os.fspath(path)
        target = node + (":" + interface if interface else "")
        args = ["capture", "-s", sim.name, target, "-w", self.path, "--json"]
        if count is not None:
            args += ["-c", count]
        if duration is not None:
            args += ["--duration", duration]
        if filter:
            args += filter.split() if isinstance(filter, str) else list(filter)
        self._argv = [sim.netsim] + [str(a) for a in args]
        self._stderr = []
        self._listening = threading.Event()
        self.result = None
        self._proc = subprocess.Popen(self._argv, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        # netsim says "capturing on ..." once the handle is active: from then
        # on no packet is missed.  An early exit is an error.
        while not self._listening.wait(0.05):
            if self._proc.poll() is not None:
                self._reader.join()
                self._finish()
                break

    def _read_stderr(self):
        for line in self._proc.stderr:
            line = line.decode(errors="replace")
            self._stderr.append(line)
            if "capturing on" in line:
                self._listening.set()

    def _finish(self):
        out = self._proc.stdout.read().decode(errors="replace")
        self._reader.join()
        self._proc.stdout.close()
        self._proc.stderr.close()
        err = "".join(self._stderr)
        rc = self._proc.returncode
        if rc != 0 or not out.strip().startswith("{"):
            raise NetsimError(_netsim_message(err), rc, self._argv, out, err)
        self.result = Result(json.loads(out))
        return self.result

    @property
    def running(self):
        return self._proc.poll() is None

    def wait(self, timeout=None):
        """Wait for the capture to end by itself (count, duration); the result
        (packets, dropped, file, ...)."""
        if self.result is not None:
            return self.result
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise NetsimTimeout("capture: still running after %s s" % timeout, None, self._argv)
        except BaseException:
            _stop(self._proc)
            raise
        return self._finish()

    def stop(self):
        """End the capture (SIGTERM: the file is closed cleanly)."""
        if self.result is not None:
            return self.result
        _stop(self._proc)
        return self._finish()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            self.stop()
        else:
            try:
                self.stop()
            except NetsimError:
                pass
        return False
