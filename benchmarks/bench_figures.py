"""Benchmark and safety check of the hot figure builders: the builders of this checkout against
the same builders as of BASELINE (loaded from git into a scratch package), in the same run.

    python benchmarks/bench_figures.py              # timings (median of --runs) and equality
    python benchmarks/bench_figures.py --runs 15
    python benchmarks/bench_figures.py --save out.pkl   # also pickle every case's to_dict()
    python benchmarks/bench_figures.py --check out.pkl  # compare with a pickle saved earlier

Cases: fits_figure / manual_figure on bimodal, three modes, wide + narrow (spike), asymmetric,
Student-t heavy tails, each stacked and side by side, linear and log density; landscape_figure on
bimodal, spike, heavy; elbo_figure; alpha_figure, tails_figure and penalty_figure (still built
through Plotly, on panel_grid's cached grid, secondary y axes in penalty's; alpha and tails use
fits.py's trace helpers). Equality: every case's ``fig.to_dict()`` must equal the baseline's (numpy
arrays exactly, dtype included; dict key order ignored). CPU time (time.process_time, one core),
per builder the median over runs of the summed time of its cases, and the ratio old / new.
Prints figures; not a test.  (vi2d_figure is no longer among them: since the /vi-2d redraw work
it draws one panel per chart, by design unlike the baseline's two-panel figure; its cost is in
``benchmarks/bench_vi2d.py --page``.)
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import math  # noqa: E402
import pickle  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from explorer import fit_gaussian  # noqa: E402
from explorer.distributions import Normal, StudentT  # noqa: E402
from explorer.figures.alpha import no_fit_ranges  # noqa: E402
from explorer.fitting import NoFiniteFitError  # noqa: E402
from explorer.landscape import kl_landscape  # noqa: E402
from explorer.presets import PRESETS, mixture  # noqa: E402
from explorer.sweeps import sweep  # noqa: E402

BASELINE = "6054624"  # main before the plain-dict builders
MODULES = ("base", "fits", "landscape", "vi2d", "alpha", "tails", "penalty")
VI2D_PRESETS = {  # views/state/vi2d.py PRESETS (w, mx, my, sx, sy, rho)
    "corr": ((1.0, 0.0, 0.0, 1.0, 1.0, 0.9),),
    "two": ((0.5, -2.0, -2.0, 1.0, 1.0, 0.5), (0.5, 2.0, 2.0, 1.0, 1.0, -0.3)),
    "three": ((0.5, -2.5, 0.0, 1.0, 0.7, 0.4), (0.3, 2.0, 1.5, 0.7, 0.7, -0.6),
              (0.2, 1.0, -2.5, 0.5, 1.0, 0.2)),
}


def load_baseline(rev: str = BASELINE) -> dict[str, types.ModuleType]:
    """The figure modules as of ``rev``, importing one another (not this checkout's)."""
    pkg = types.ModuleType("_old_figs")
    pkg.__path__ = []
    sys.modules["_old_figs"] = pkg
    mods = {}
    for name in MODULES:
        src = subprocess.run(["git", "show", f"{rev}:explorer/figures/{name}.py"], cwd=ROOT,
                             check=True, capture_output=True, text=True).stdout
        for other in MODULES:
            src = src.replace(f"explorer.figures.{other} ", f"_old_figs.{other} ")
        spec = importlib.util.spec_from_loader(f"_old_figs.{name}", loader=None)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod
        exec(compile(src, f"<{rev}:{name}.py>", "exec"), mod.__dict__)
        mods[name] = mod
    return mods


def _forward(p):
    try:
        return fit_gaussian(p, "forward").q
    except NoFiniteFitError:
        return None


def cases() -> dict[str, list[tuple[str, tuple, dict]]]:
    """builder name -> [(case label, args, kwargs)]."""
    out: dict[str, list] = {"fits_figure": [], "manual_figure": [], "landscape_figure": [],
                            "elbo_figure": [], "alpha_figure": [],
                            "tails_figure": [], "penalty_figure": []}
    for name in ("bimodal", "three", "spike", "asymmetric", "heavy"):
        p = mixture(PRESETS[name].components)
        qf = _forward(p)
        rev = fit_gaussian(p, "reverse")
        others = tuple(o.q for o in rev.local_optima if o.q != rev.q)
        reason = None if qf is not None else "p's variance is infinite"
        for stacked in (False, True):
            for log in (False, True):
                tag = f"{name} stacked={stacked} log={log}"
                out["fits_figure"].append((tag, (p, qf, rev.q, others),
                                           {"unit": "bits" if log else "nats",
                                            "forward_reason": reason, "stacked": stacked,
                                            "log_density": log}))
                out["manual_figure"].append((tag, (p, Normal(0.5, 2.0), qf, rev.q, others),
                                             {"stacked": stacked, "log_density": log}))
        for stacked in (False, True):
            out["penalty_figure"].append((f"{name} stacked={stacked}", (p, qf, rev.q),
                                          {"stacked": stacked}))
        if name in ("bimodal", "spike", "heavy"):
            land = kl_landscape(p, size=80)
            start = Normal(-2.5, 2.0)
            path = fit_gaussian(p, "reverse", init=start).path
            for stacked in (False, True):
                out["landscape_figure"].append(
                    (f"{name} stacked={stacked}", (land, [o.q for o in rev.local_optima]),
                     {"forward_opt": qf, "path": path, "start": start,
                      "unit": "bits" if stacked else "nats",
                      "reason": None if qf is not None else "why", "stacked": stacked}))
    for name in VI2D_PRESETS:
        out["elbo_figure"].append((name, ([("reverse fit", -0.3, 0.3), ("your q", -1.2, 1.2)],
                                          0.0, "nats"), {}))
    alphas = np.round(np.arange(-2, 3.01, 0.5), 2)
    for name in ("bimodal", "heavy"):  # fits' helpers, used by the /alpha and tails figures
        p = mixture(PRESETS[name].components)
        sw = sweep(p, "alpha", alphas, objective="alpha")
        ranges = no_fit_ranges(alphas, [b >= 0 for b in sw.best])
        fit = fit_gaussian(p, "alpha", alpha=0.5)
        for stacked in (False, True):
            out["alpha_figure"].append((f"{name} stacked={stacked}",
                                        (p, fit.q, [], "μ = 0", sw, 0.5, ranges, "why"),
                                        {"stacked": stacked}))
    curves = {"nu": [0.5, 1.0, 2.0, 3.0, 10.0], "forward": [math.inf, math.inf, math.inf, 0.2,
                                                           0.02],
              "reverse": [0.4, 0.2, 0.1, 0.05, 0.01]}
    for stacked in (False, True):
        out["tails_figure"].append((f"stacked={stacked}", (StudentT(0, 1, 3), Normal(0, 3**0.5),
                                                           Normal(0, 1.26), curves, 3.0),
                                    {"unit": "bits", "stacked": stacked}))
    out["elbo_figure"].append(("bits", ([("reverse fit", 1.5, 0.5)], 2.0, "bits"), {}))
    return out


def diff(a, b, path="fig") -> list[str]:
    """Where two to_dict() trees differ (arrays exactly, dtype included; lists == tuples)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return [f"{path}: {type(a).__name__} vs {type(b).__name__}"]
        if a.dtype != b.dtype or a.shape != b.shape or not np.array_equal(a, b, equal_nan=True):
            return [f"{path}: arrays differ ({a.dtype}{a.shape} vs {b.dtype}{b.shape})"]
        return []
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}.{k}: only in {'first' if k in a else 'second'}"
               for k in sorted(set(a) ^ set(b))]
        for k in a.keys() & b.keys():
            out += diff(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if len(a) != len(b):
            return [f"{path}: length {len(a)} vs {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in diff(x, y, f"{path}[{i}]")]
    if type(a) is not type(b) and not (isinstance(a, int | float) and isinstance(b, int | float)
                                       and not isinstance(a, bool) and not isinstance(b, bool)):
        return [f"{path}: {type(a).__name__} {a!r} vs {type(b).__name__} {b!r}"]
    if a != b and not (a != a and b != b):
        return [f"{path}: {a!r} vs {b!r}"]
    return []


def timed(build, args, kwargs):
    t0 = time.process_time()
    fig = build(*args, **kwargs)
    return fig, time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--save", help="pickle every case's to_dict() (new builders) here")
    ap.add_argument("--check", help="compare every case's to_dict() with this pickle")
    ap.add_argument("--baseline", default=BASELINE, help="git revision of the old builders")
    args = ap.parse_args()
    old = load_baseline(args.baseline)
    import explorer.figures.alpha as new_alpha
    import explorer.figures.fits as new_fits
    import explorer.figures.landscape as new_landscape
    import explorer.figures.penalty as new_penalty
    import explorer.figures.tails as new_tails
    import explorer.figures.vi2d as new_vi2d
    new = {"fits_figure": new_fits.fits_figure, "manual_figure": new_fits.manual_figure,
           "landscape_figure": new_landscape.landscape_figure,
           "elbo_figure": new_vi2d.elbo_figure,
           "alpha_figure": new_alpha.alpha_figure, "tails_figure": new_tails.tails_figure,
           "penalty_figure": new_penalty.penalty_figure}
    base = {"fits_figure": old["fits"].fits_figure, "manual_figure": old["fits"].manual_figure,
            "landscape_figure": old["landscape"].landscape_figure,
            "elbo_figure": old["vi2d"].elbo_figure,
            "alpha_figure": old["alpha"].alpha_figure, "tails_figure": old["tails"].tails_figure,
            "penalty_figure": old["penalty"].penalty_figure}
    all_cases = cases()
    saved = {}
    problems = 0
    print(f"{'builder':18} {'cases':>5} {'old ms/fig':>11} {'new ms/fig':>11} {'old/new':>8}")
    for builder, items in all_cases.items():
        t_old, t_new = [], []
        for run in range(args.runs):
            so = sn = 0.0
            for label, a, kw in items:
                fo, to = timed(base[builder], a, kw)
                fn, tn = timed(new[builder], a, kw)
                so, sn = so + to, sn + tn
                if run == 0:
                    d_new = fn.to_dict()
                    saved[f"{builder} {label}"] = d_new
                    problems_here = diff(fo.to_dict(), d_new)
                    if problems_here:
                        problems += 1
                        print(f"  DIFFERS {builder} {label}:", *problems_here[:8], sep="\n    ")
            t_old.append(so / len(items))
            t_new.append(sn / len(items))
        mo, mn = statistics.median(t_old), statistics.median(t_new)
        print(f"{builder:18} {len(items):5d} {1e3 * mo:11.2f} {1e3 * mn:11.2f} {mo / mn:8.2f}")
    print(f"equality with {args.baseline}: "
          + ("all cases equal" if not problems else f"{problems} case(s) differ"))
    if args.save:
        Path(args.save).write_bytes(pickle.dumps(saved))
    if args.check:
        ref = pickle.loads(Path(args.check).read_bytes())
        bad = [k for k in ref if k not in saved or diff(ref[k], saved[k])]
        print(f"equality with {args.check}: "
              + ("all cases equal" if not bad else f"differ: {bad}"))


if __name__ == "__main__":
    main()
