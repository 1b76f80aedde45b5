"""What one request can cost: CPU seconds, peak memory and chart bytes of the worst links found.

Each case opens one page with one query string the way a visitor's browser would (the app script
run by Streamlit's AppTest: the link's state, then the page), in a fresh subprocess so no cache is
warm and the peak RSS is that request's alone.  Printed per case:

* CPU-s — user + system CPU time of the run (one core; the app is single-threaded per run), in a
  process that has imported the libraries the app uses (numpy, scipy's submodules, Plotly,
  Streamlit, explorer), as a serving process has after its first visitors; --cold counts scipy's
  submodule imports (~0.5 CPU-s, once per process) in the first request that needs them;
* peak RSS — the process's peak resident memory, and its rise over the baseline row's peak (the
  default page opened in the same way: the memory any first request costs);
* chart bytes — the Plotly figure JSON sent to the browser;
* the link warnings the app gave (a capped link says what it capped).

The first row, the default page, is the baseline measured in the same run.  Goal (issue 13): every
case ≤ 2 CPU-s and ≤ +150 MB.

Run: python benchmarks/bench_cost.py [--only SUBSTRING]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from explorer.text import unescape_markdown  # noqa: E402

SIX = range(-5, 1)
CASES = [
    ("default page (baseline)", "", {}),
    ("landscape, 6 narrow Laplace, lg=160", "landscape",
     {"lg": "160", "c": ",".join(f"l:1:{m}:0.001" for m in SIX)}),
    ("landscape, 6 narrow Laplace, 1e-6 weight change", "landscape",
     {"lg": "160", "c": ",".join(f"l:{1 + 1e-6 * (m == 0)}:{m}:0.001" for m in SIX)}),
    ("landscape, 6 Student-t ν=0.1, lg=160", "landscape",
     {"lg": "160", "c": ",".join(f"t:1:{m}:1:0.1" for m in SIX)}),
    ("landscape, 6 narrow Student-t ν=0.1, lg=160", "landscape",
     {"lg": "160", "c": ",".join(f"t:1:{m}:0.001:0.1" for m in SIX)}),
    ("landscape, 6 Student-t ν=0.1 spread wide, lg=160", "landscape",
     {"lg": "160", "c": ",".join(f"t:1:{200 * m}:0.001:0.1" for m in SIX)}),
    ("landscape, 4 narrow Laplace + 2 Normal (allowed), lg=160", "landscape",
     {"lg": "160", "c": "l:1:-5:0.001,l:1:-4:0.001,l:1:-3:0.001,l:1:-2:0.001,n:1:-1:1,n:1:0:1"}),
    ("landscape, 4 narrow t ν=0.1 + 2 t (allowed), lg=160", "landscape",
     {"lg": "160", "c": "t:1:-5:0.001:0.1,t:1:-4:0.001:0.1,t:1:-3:0.001:0.1,t:1:-2:0.001:0.1,"
                        "t:1:-1:1:0.1,t:1:0:1:0.1"}),
    ("landscape, 6 narrow Normal (allowed), lg=160", "landscape",
     {"lg": "160", "c": ",".join(f"n:1:{m}:0.001" for m in SIX)}),
    ("landscape, bimodal, lg=160", "landscape", {"lg": "160"}),
    ("fits, 4 narrow Laplace + 2 narrow Normal → capped", "",
     {"c": "l:1:-5:0.001,l:1:-4:0.001,l:1:-3:0.001,l:1:-2:0.001,n:1:-1:0.001,n:1:0:0.001"}),
    ("fits, 4 narrow Laplace + 2 Normal (allowed)", "",
     {"c": "l:1:-5:0.001,l:1:-4:0.001,l:1:-3:0.001,l:1:-2:0.001,n:1:-1:1,n:1:0:1"}),
    ("fits, 1 narrow Laplace + 3 narrow Normal + 2 wide", "",
     {"c": "l:1:-5:0.001,n:1:-4:0.001,n:1:-3:0.001,n:1:-2:0.001,n:1:-1:1,n:1:0:1"}),
    ("fits, 6 narrow Student-t ν=0.1", "", {"c": ",".join(f"t:1:{m}:0.001:0.1" for m in SIX)}),
    ("fits, 6 narrow Laplace", "", {"c": ",".join(f"l:1:{m}:0.001" for m in SIX)}),
    ("fits, 6 mixed widths 0.001…1000", "",
     {"c": "n:1:-900:0.001,t:1:-300:1000:0.1,l:1:0:0.001,n:1:300:1000,t:1:600:0.001:0.5,"
           "l:1:900:1"}),
    ("penalty, 6 narrow Student-t ν=0.1", "penalty",
     {"c": ",".join(f"t:1:{m}:0.001:0.1" for m in SIX)}),
    ("entropy, 6 narrow Student-t ν=0.1", "entropy",
     {"c": ",".join(f"t:1:{m}:0.001:0.1" for m in SIX)}),
    ("mle, n=100000, 6 Student-t ν=0.1", "mle",
     {"n": "100000", "c": ",".join(f"t:1:{m}:0.001:0.1" for m in SIX)}),
    ("mle, n=100000, 6 narrow Laplace", "mle",
     {"n": "100000", "c": ",".join(f"l:1:{m}:0.001" for m in SIX)}),
    ("heavy-tails, ν=0.5", "heavy-tails", {"tv": "0.5"}),
    ("discrete, 10 outcomes", "discrete",
     {"d": ",".join(f"o{i}:{i}:{10 - i}" for i in range(10)), "de": "0.5"}),
    ("alpha, three modes, α = −2", "alpha", {"p": "three", "al": "-2"}),
    ("alpha, 6 separated Normals", "alpha", {"c": ",".join(f"n:1:{10 * m}:1" for m in SIX)}),
    ("alpha, 4 narrow Laplace + 2 Normal (allowed)", "alpha",
     {"c": "l:1:-5:0.001,l:1:-4:0.001,l:1:-3:0.001,l:1:-2:0.001,n:1:-1:1,n:1:0:1"}),
    ("alpha, 6 Student-t ν=0.1", "alpha", {"c": ",".join(f"t:1:{m}:1:0.1" for m in SIX)}),
    ("sweep, 6 separated n/t, separation", "sweep",
     {"c": ",".join(f"{'t' if m % 2 else 'n'}:1:{10 * m}:1:3" if m % 2 else f"n:1:{10 * m}:1"
                    for m in SIX)}),
    ("sweep, 4 narrow Laplace + 2 Normal, width 0.001…1000", "sweep",
     {"c": "l:1:-5:0.001,l:1:-4:0.001,l:1:-3:0.001,l:1:-2:0.001,n:1:-1:1,n:1:0:1", "sw": "s",
      "sr": "0.001:1000"}),
    ("drift, 2×100 000 values, k=20, 500 resamples", "drift",
     {"xn": "100000", "xl": "100000", "xj": "20", "xr": "500", "xb": "equal-width", "xk": "50",
      "c": "t:1:0:1:0.1,n:1:5:0.001"}),
    ("drift, 2×2 000 values, k=20, 500 resamples", "drift",
     {"xn": "2000", "xl": "2000", "xj": "20", "xr": "500", "xe": "0"}),
    ("vi-2d, 4 thin ridges ρ = ±0.99 at the corners", "vi-2d",
     {"vt": "1:-10:-10:0.05:10:0.99,1:10:10:10:0.05:-0.99,1:-10:10:0.05:0.05:0.99,"
            "1:10:-10:10:10:-0.99", "vf": "diag"}),
    ("vi-2d, 4 narrow modes inside a wide one", "vi-2d",
     {"vt": "1:0:0:10:10:0,1:-3:0:0.05:0.05:0.99,1:3:0:0.05:0.05:-0.99,1:0:3:0.05:0.5:0"}),
    ("vi-2d, the same ridges with sd ≥ 0.2", "vi-2d",
     {"vt": "1:-10:-10:0.2:10:0.99,1:10:10:10:0.2:-0.99,1:-10:10:0.2:0.2:0.99,"
            "1:10:-10:10:10:-0.99", "vf": "diag"}),
    ("vi-2d, modes inside a wide one with sd ≥ 0.2", "vi-2d",
     {"vt": "1:0:0:10:10:0,1:-3:0:0.2:0.2:0.99,1:3:0:0.2:0.2:-0.99,1:0:3:0.2:0.5:0"}),
    ("vi-2d, modes in a line with sd ≥ 0.2", "vi-2d",
     {"vt": "1:-9:0:0.2:10:0,1:-3:0:0.2:10:0,1:3:0:0.2:10:0,1:9:0:0.2:10:0"}),
    ("vi-2d, 4 equal modes in a line, full", "vi-2d",
     {"vt": "1:-9:0:0.05:10:0,1:-3:0:0.05:10:0,1:3:0:0.05:10:0,1:9:0:0.05:10:0"}),
]

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, ROOT)
import numpy, scipy, plotly, streamlit  # noqa: F401
from streamlit.testing.v1 import AppTest
import explorer, explorer.landscape, explorer.mle, explorer.fitting  # noqa: F401
if not COLD:  # what a serving process has loaded once (~0.5 CPU-s): not a cost of this link
    import scipy.integrate, scipy.optimize, scipy.spatial, scipy.special  # noqa: F401

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

at = AppTest.from_file(ROOT + "/app.py", default_timeout=600)
at.query_params.update(PARAMS)
if PAGE:
    at.switch_page(PAGE)  # open /<page>?<query> directly, as a shared link does
base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
c0, t0 = cpu(), time.perf_counter()
at.run()
if PAGE and at.title and at.title[0].value == "KL Explorer: forward vs reverse KL":
    # AppTest does not open every page before the first run (heavy_tails.py vs url
    # heavy-tails): count only the run of the page itself
    at.switch_page(PAGE)
    c0, t0 = cpu(), time.perf_counter()
    at.run()
c1, t1 = cpu(), time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
chart = sum(len(c.proto.spec) for c in at.get("plotly_chart"))
print(json.dumps({"cpu": c1 - c0, "wall": t1 - t0, "base": base_rss, "peak": peak,
                  "chart": chart, "title": at.title[0].value if at.title else "",
                  "exception": [str(e.value)[:200] for e in at.exception],
                  "warnings": [w.value[:160] for w in at.warning]}))
"""

FILES = {"": "", "penalty": "views/penalty.py", "landscape": "views/landscape.py",
         "entropy": "views/entropy.py", "mle": "views/mle.py", "discrete": "views/discrete.py",
         "heavy-tails": "views/heavy_tails.py", "alpha": "views/alpha.py",
         "sweep": "views/sweep.py", "drift": "views/drift.py", "vi-2d": "views/vi2d.py"}


def measure(page: str, params: dict, cold: bool = False) -> dict:
    code = (f"ROOT = {str(ROOT)!r}\nPARAMS = {params!r}\nPAGE = {FILES[page]!r}\n"
            f"COLD = {cold!r}\n" + CHILD)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=900, env={"OMP_NUM_THREADS": "1",
                                                     "OPENBLAS_NUM_THREADS": "1",
                                                     "MKL_NUM_THREADS": "1", "PATH": "/usr/bin"})
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="", help="run only the cases whose name contains this")
    ap.add_argument("--cold", action="store_true",
                    help="count scipy's submodule imports too (a fresh process's first request)")
    args = ap.parse_args()
    print(f"{'case':52} {'CPU-s':>7} {'wall-s':>7} {'peak MB':>8} {'+MB':>6} {'chart KB':>9}"
          "  page shown")
    base = None
    for i, (name, page, params) in enumerate(CASES):
        if i and args.only not in name:
            continue
        r = measure(page, params, args.cold)
        base = r["peak"] if base is None else base
        print(f"{name:52} {r['cpu']:7.2f} {r['wall']:7.2f} {r['peak']:8.0f} "
              f"{r['peak'] - base:+6.0f} {r['chart'] / 1024:9.0f}  {r['title'][:24]}", flush=True)
        for w in r["warnings"]:
            print(f"{'':4}warning: {unescape_markdown(w)[:150]}")
        for e in r["exception"]:
            print(f"{'':4}EXCEPTION: {e}")


if __name__ == "__main__":
    main()
