"""Server CPU of the main page, per run, measured in-process with Streamlit's AppTest and
time.process_time (CPU time: robust on a shared, loaded machine where wall time is not).

Each measure runs in a fresh interpreter (a cold start is a fresh process: imports included),
against a hello-world script measured the same way in the same run:

* first run: what a fresh server spends on the first visitor's first view;
* rerun, nothing changed: a widget that changes nothing drawn (Streamlit's floor for our script);
* target change: a new component mean, so every fit and figure is computed afresh;
* manual q move: the manual q's slider (the fragment's work, run as a full rerun here).

What one process does for N simultaneous visitors is about N times these (the GIL).

Run: python benchmarks/bench_server_cpu.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HELLO = 'import streamlit as st\nst.title("Hello")\nst.write("world")\n'

CHILD = r"""
import json, statistics, sys, time
import streamlit.web.bootstrap  # what a server has imported before the first visitor
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=300)
t = time.process_time(); at.run(); first = time.process_time() - t
assert not at.exception, at.exception
out = {"first": first}
if sys.argv[2] == "app":
    def timed(change):
        change(); t = time.process_time(); at.run(); assert not at.exception, at.exception
        return time.process_time() - t
    n = int(sys.argv[3])
    out["rerun"] = statistics.median(timed(lambda: None) for _ in range(n))
    out["change"] = statistics.median(
        timed(lambda i=i: at.number_input(key="c2_loc").set_value(3.5 + 0.25 * i))
        for i in range(n))
    out["manual"] = statistics.median(
        timed(lambda i=i: at.slider(key="manual_mu").set_value(0.1 * (i + 1)))
        for i in range(n))
print(json.dumps(out))
"""


def child(script: Path, kind: str, n: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(script), kind, str(n)],
                         capture_output=True, text=True, cwd=REPO, timeout=600)
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5, help="fresh processes of each (medians)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        hello = Path(tmp) / "hello.py"
        hello.write_text(HELLO)
        hellos, apps = [], []
        for _ in range(args.repeats):  # alternating: both see the same load
            hellos.append(child(hello, "hello", 0))
            apps.append(child(REPO / "app.py", "app", 8))

    def med(runs, k):
        return statistics.median(r[k] for r in runs) * 1e3

    base = med(hellos, "first")
    print(f"server CPU (time.process_time), median of {args.repeats} fresh processes each")
    print(f"{'measure':44s} {'CPU ms':>8s} {'vs hello':>9s}")
    print(f"{'baseline: hello world, first run':44s} {base:8.0f}")
    print(f"{'main page, first run (cold: imports + fits)':44s} {med(apps, 'first'):8.0f} "
          f"{med(apps, 'first') - base:+8.0f}")
    for k, label in (("rerun", "rerun, nothing changed"), ("change", "target change (new fits)"),
                     ("manual", "manual q moved")):
        print(f"{label:44s} {med(apps, k):8.0f}")


if __name__ == "__main__":
    main()
