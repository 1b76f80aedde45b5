"""Memory of one serving process over many distinct visitors: does it stay flat as pages are added?

A public demo's process lives for days; every page caches fits, figures and sweeps.  This runs
N visits in ONE process (Streamlit's AppTest, which shares the process-wide st.cache_data caches
as a server's sessions do), each a new session opening one page — every page in turn, /vi-2d
included — on a target no earlier visit used (random 1-D mixtures in ``c``, random 2-D targets in
``vt``).  It prints the resident memory (VmRSS, not the peak) every ``--every`` visits, and the
rise over the second half of the run: bounded caches show a plateau, a leak a slope.

    python benchmarks/bench_memory.py                # 600 visits, RSS every 50
    python benchmarks/bench_memory.py --visits 140 --every 14

Prints figures; not a test.
"""

from __future__ import annotations

import argparse
import gc
import logging
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from streamlit.testing.v1 import AppTest  # noqa: E402

from views.state import AppState, encode_components  # noqa: E402
from views.state.vi2d import Vi2dState  # noqa: E402

PAGES = ["views/fits.py", "views/penalty.py", "views/landscape.py", "views/entropy.py",
         "views/mle.py", "views/discrete.py", "views/heavy_tails.py", "views/rlhf.py",
         "views/estimators.py", "views/distill.py", "views/alpha.py", "views/sweep.py",
         "views/drift.py", "views/vi2d.py"]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def target_1d(rng: random.Random) -> str:
    comps = [("n", rng.uniform(0.1, 1), round(rng.uniform(-6, 6), 3), round(rng.uniform(0.3, 3), 3))
             for _ in range(rng.randint(1, 3))]
    return encode_components(AppState(components=comps).components)


def target_2d(rng: random.Random) -> str:
    comps = tuple((round(rng.uniform(0.1, 1), 3), round(rng.uniform(-3, 3), 3),
                   round(rng.uniform(-3, 3), 3), round(rng.uniform(0.5, 1.5), 3),
                   round(rng.uniform(0.5, 1.5), 3), round(rng.uniform(-0.8, 0.8), 3))
                  for _ in range(rng.randint(1, 3)))
    return Vi2dState(components=comps).to_query()["vt"]


def visit(page: str, params: dict) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update(params)
    at.run()
    if page != PAGES[0]:
        at.switch_page(page)
        at.run()
    if at.exception:
        raise RuntimeError(f"{page} {params}: {[e.value for e in at.exception]}")


def main() -> None:
    logging.disable(logging.WARNING)  # AppTest's bare-mode chatter, one line a visit
    ap = argparse.ArgumentParser()
    ap.add_argument("--visits", type=int, default=600)
    ap.add_argument("--every", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    rows = [(0, rss_mb(), 0.0)]
    t0 = time.perf_counter()
    for i in range(1, args.visits + 1):
        page = PAGES[(i - 1) % len(PAGES)]
        params = {"vt": target_2d(rng)} if page == "views/vi2d.py" else {"c": target_1d(rng)}
        visit(page, params)
        if i % args.every == 0:
            gc.collect()
            rows.append((i, rss_mb(), time.perf_counter() - t0))
    print(f"one process, {args.visits} visits, each a new session on a new target, the "
          f"{len(PAGES)} pages in turn")
    print(f"{'visits':>7} {'RSS MB':>8} {'wall s':>8}")
    for i, mb, t in rows:
        print(f"{i:7d} {mb:8.1f} {t:8.1f}")
    half = [r for r in rows if r[0] >= args.visits // 2]
    print(f"rise over the second half ({half[0][0]}→{half[-1][0]} visits): "
          f"{half[-1][1] - half[0][1]:+.1f} MB; peak of the run {max(r[1] for r in rows):.1f} MB")


if __name__ == "__main__":
    main()
