"""Running the netsim binary: the one place that starts it.

Every call goes through run(): it finds the binary, passes the arguments as a
list (never a shell), and turns a failure into NetsimError carrying netsim's own
`netsim: ...` message and exit status.  When Python is interrupted while netsim
runs (Ctrl-C, or SIGTERM turned into KeyboardInterrupt by the pytest plugin),
netsim gets SIGTERM and is waited for: `netsim up` rolls back on SIGTERM, so an
interrupted up leaves nothing behind, and no netsim process outlives the test.
"""

import json
import os
import shutil
import signal
import subprocess

# Grace time for netsim to finish after SIGTERM (an interrupted up rolls back).
_TERM_GRACE_S = 30


class NetsimError(Exception):
    """netsim failed.  `message` is netsim's own error text (its `netsim: ...`
    lines), `returncode` its exit status (1 failure, 2 bad usage; for exec the
    command's status), `command` the argv that ran."""

    def __init__(self, message, returncode=None, command=None, stdout="", stderr=""):
        super().__init__(message)
        self.message = message
        self.returncode = returncode
        self.command = list(command or [])
        self.stdout = stdout
        self.stderr = stderr

    @property
    def usage(self):
        """True when netsim refused the arguments (exit status 2)."""
        return self.returncode == 2

    def __str__(self):
        status = "" if self.returncode is None else " (exit status %d)" % self.returncode
        return self.message + status


class NetsimTimeout(NetsimError):
    """netsim did not finish within the timeout given to the call; it was
    stopped with SIGTERM (then SIGKILL)."""


def _netsim_message(stderr):
    """netsim's error lines ("netsim: ..."; a usage error's "netsim: VERB: ..."),
    else all of stderr."""
    lines = [l for l in stderr.splitlines() if l.startswith("netsim")]
    text = "\n".join(lines) if lines else stderr.strip()
    return text or "netsim failed without a message"


def find_binary(netsim=None):
    """The netsim binary: the argument, else $NETSIM, else `netsim` in PATH."""
    path = netsim or os.environ.get("NETSIM") or shutil.which("netsim")
    if not path:
        raise NetsimError("netsim binary not found: pass netsim=PATH, set $NETSIM, "
                          "or put netsim in PATH (make install)")
    if os.sep in path and not os.access(path, os.X_OK):
        raise NetsimError("netsim binary %s: not an executable file" % path)
    return path


def _stop(proc):
    """SIGTERM, a grace time, then SIGKILL; reaps the process."""
    if proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=_TERM_GRACE_S)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        proc.kill()
        proc.wait()


def run(binary, args, check=True, timeout=None, input=None, ok_codes=(0,)):
    """Run `binary ARGS`; returns (returncode, stdout, stderr) as text.  With
    check, an exit status outside ok_codes raises NetsimError."""
    argv = [binary] + [str(a) for a in args]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(
            input=input.encode() if isinstance(input, str) else input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(proc)
        out, err = proc.communicate()
        raise NetsimTimeout("netsim %s: no result within %s s" % (" ".join(argv[1:3]), timeout),
                            None, argv, out.decode(errors="replace"), err.decode(errors="replace"))
    except BaseException:
        _stop(proc)
        raise
    out = out.decode(errors="replace")
    err = err.decode(errors="replace")
    if check and proc.returncode not in ok_codes:
        raise NetsimError(_netsim_message(err), proc.returncode, argv, out, err)
    return proc.returncode, out, err


def run_json(binary, args, timeout=None, ok_codes=(0,)):
    """Run a verb with --json (already in args) and parse its one JSON object.
    An exit status in ok_codes with a JSON object is a result, not an error
    (converge and reach exit 1 with JSON when pairs are missing)."""
    rc, out, err = run(binary, args, check=False, timeout=timeout)
    text = out.strip()
    if rc not in ok_codes or not text.startswith("{"):
        raise NetsimError(_netsim_message(err), rc, [binary] + [str(a) for a in args], out, err)
    try:
        return rc, json.loads(text)
    except ValueError as e:
        raise NetsimError("netsim %s: output is not JSON (%s): %r" % (args[0], e, text[:200]),
                          rc, [binary] + list(args), out, err)
