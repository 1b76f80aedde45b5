"""Shared by the tests.

Core numerics tests (test_distributions/divergences/fitting/discrete): the repository root on
sys.path (so plain ``pytest`` finds ``explorer``) and ``quad_kl``, a scipy.integrate.quad
reference for KL(p‖q) written from textbook densities — independent of explorer's numerics.
"""

from __future__ import annotations

import math
import os
import pathlib
import sys

import numpy as np
import pytest
from hypothesis import settings
from scipy import integrate, optimize
from scipy.special import logsumexp

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# In CI the property tests replay a fixed sequence of examples, so a submission's verdict does not
# depend on the luck of the draw; run locally, they keep exploring new examples every time.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


def _textbook(c):
    """(log density, location, scale) of one component, from the textbook formula."""
    name = type(c).__name__
    if name == "Normal":
        m, s = c.mean, c.std
        return (lambda x: -0.5 * ((x - m) / s) ** 2 - math.log(s * math.sqrt(2 * math.pi))), m, s
    m, s = c.loc, c.scale
    if name == "Laplace":
        return (lambda x: -abs(x - m) / s - math.log(2 * s)), m, s
    v = c.df
    const = math.lgamma((v + 1) / 2) - math.lgamma(v / 2) - 0.5 * math.log(v * math.pi * s * s)
    return (lambda x: const - (v + 1) / 2 * math.log1p(((x - m) / s) ** 2 / v)), m, s


def _parts(d):
    comps = getattr(d, "components", (d,))
    weights = getattr(d, "weights", (1.0,))
    return [(math.log(w), *_textbook(c)) for w, c in zip(weights, comps, strict=True) if w > 0]


def quad_logpdf(d):
    """log density of an explorer Normal/Laplace/StudentT/Mixture, from textbook formulas."""
    parts = _parts(d)
    if len(parts) == 1:
        return parts[0][1]
    return lambda x: float(logsumexp([lw + f(x) for lw, f, _, _ in parts]))


def _switches(d, lo, hi, n=2000):
    """Where the dominant component of a mixture's log density changes (bisection by brentq)."""
    parts = _parts(d)
    if len(parts) < 2:
        return []
    xs = np.linspace(lo, hi, n + 1)
    top = [max(range(len(parts)), key=lambda i, x=x: parts[i][0] + parts[i][1](x)) for x in xs]
    out = []
    for k in np.flatnonzero(np.diff(top)):
        (li, fi, _, _), (lj, fj, _, _) = parts[top[k]], parts[top[k + 1]]

        def gap(x, li=li, fi=fi, lj=lj, fj=fj):
            return li + fi(x) - lj - fj(x)

        x0 = optimize.brentq(gap, xs[k], xs[k + 1], xtol=1e-15)
        out.extend(x0 + t for t in (-1e-2, -1e-3, -1e-4, 0.0, 1e-4, 1e-3, 1e-2))
    return out


def quad_kl(p, q, reach: float = 40.0) -> float:
    """KL(p‖q) by adaptive quad, split at each component's centre ± k·scale (k ≤ ``reach``) and
    where log p or log q switches component, over p's support (light-tailed p only: beyond
    ``reach`` scales p < e^-800)."""
    lp, lq = quad_logpdf(p), quad_logpdf(q)
    lo = min(m - reach * s for _, _, m, s in _parts(p))
    hi = max(m + reach * s for _, _, m, s in _parts(p))
    pts = {m + k * s for _, _, m, s in _parts(p) + _parts(q)
           for k in (-reach, -16, -8, -4, -2, -1, -0.5, 0, 0.5, 1, 2, 4, 8, 16, reach)}
    pts.update(_switches(p, lo, hi))
    pts.update(_switches(q, lo, hi))
    pts = sorted(x for x in pts if lo <= x <= hi)

    def f(x):
        a = lp(x)
        return math.exp(a) * (a - lq(x)) if a > -745 else 0.0

    return math.fsum(integrate.quad(f, a, b, epsabs=1e-15, epsrel=1e-13, limit=500)[0]
                     for a, b in zip(pts, pts[1:], strict=False))


@pytest.fixture(scope="session")
def quad_reference():
    """The quad-based KL reference (a session fixture so hypothesis tests may use it)."""
    return quad_kl


@pytest.fixture(scope="session")
def rng():
    return np.random.default_rng(20240611)


# --- browser tests: one app server and one Chromium per module, a fresh 1400 px page per test ---
@pytest.fixture(scope="module")
def server():
    from browser_support import streamlit_server

    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from browser_support import launch_chromium
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch_chromium(pw)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    yield pg
    context.close()
