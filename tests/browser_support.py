"""Start ``streamlit run app.py`` on a free localhost port and drive Debian's Chromium with
Playwright — shared by the browser tests and benchmarks/bench_app.py."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(timeout: float = 90.0, script: Path | None = None):
    """Yield the base URL of a fresh ``streamlit run app.py`` (or ``script``) on 127.0.0.1;
    stop it after."""
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(script or REPO / "app.py"),
           "--server.headless", "true", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none", "--global.developmentMode", "false"]
    # the server's own log, shown if it dies under the tests (else discarded with the file)
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {proc.returncode}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not answer on {url} within {timeout:.0f} s")
            time.sleep(0.2)
        yield url
    finally:
        if proc.poll() is not None:  # it died while the tests ran: say how
            log.seek(0)
            print(f"streamlit exited with code {proc.returncode}; its log ends:\n"
                  + log.read()[-4000:], file=sys.stderr)
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def wait_for_app_idle(page, timeout_ms: float = 30_000) -> None:
    """Wait until Streamlit has finished its current run (no 'Running…' status widget)."""
    page.wait_for_function(
        """() => {
            const s = document.querySelector('[data-testid="stStatusWidget"]');
            return !s || !/Running|Connecting/i.test(s.innerText);
        }""",
        timeout=timeout_ms,
    )


def plotly_trace_count(page, index: int = 0) -> int:
    """Number of traces Plotly drew in the ``index``-th chart on the page."""
    return page.evaluate(
        "(i) => { const g = document.querySelectorAll('.js-plotly-plot')[i];"
        " return g && g.data ? g.data.length : 0; }", index)


def require_browser():
    """Playwright's sync API for a browser test module: with KL_REQUIRE_BROWSER set (the whole
    suite, CI) a missing Chromium is an error, never a skip; otherwise the module is skipped."""
    import pytest

    if not Path(CHROMIUM).exists():
        if os.environ.get("KL_REQUIRE_BROWSER"):
            raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium "
                               "(tests/run_all.sh)")
        pytest.skip(f"{CHROMIUM} not installed", allow_module_level=True)
    return pytest.importorskip("playwright.sync_api")
