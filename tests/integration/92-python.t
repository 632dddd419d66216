#!/bin/bash
# The Python package (netsim/python) and its pytest plugin: the pytest suite
# in tests/python — unit tests against a fake netsim (no root), the real
# 3node run, docs/ci.md's workflow steps, docs/examples/mesh-project — run
# once, each pytest test reported as one TAP line (skips with pytest's reason).
# A TAP wrapper rather than a separate Makefile step, so `make test`, `make
# asan` and a single `prove` of this file all run it and prove's summary
# counts it.
. "$(dirname "$0")/lib.sh"

PY=
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null && "$p" -c 'import pytest' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || skip_all "no python3 with pytest (Debian package python3-pytest)"

export NETSIM
"$PY" -m pytest -q -rs -p no:cacheprovider --junitxml="$T_TMP/junit.xml" \
	"$TOP/tests/python" >"$T_TMP/pytest.out" 2>&1
rc=$?
sed 's/^/# /' "$T_TMP/pytest.out" | tail -n 40
"$PY" - "$T_TMP/junit.xml" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
n = 0
for case in ET.parse(sys.argv[1]).iter("testcase"):
    n += 1
    name = "%s::%s" % (case.get("classname"), case.get("name"))
    bad = case.find("failure") if case.find("failure") is not None else case.find("error")
    skip = case.find("skipped")
    if bad is not None:
        print("not ok %d - %s" % (n, name))
        for line in (bad.get("message") or "").splitlines()[:10]:
            print("#   " + line)
    elif skip is not None:
        print("ok %d - %s # skip %s" % (n, name, (skip.get("message") or "").replace("\n", " ")))
    else:
        print("ok %d - %s" % (n, name))
print("1..%d" % n)
PYEOF
[ $rc -eq 0 ] || [ $rc -eq 5 ]
