"""Drive the real app the way a user does: a ``streamlit run app.py`` server and headless Chromium.

One copy of the server launcher and the page helpers, shared by the e2e test
(``tests/e2e/test_browser.py``) and the quick-start benchmark
(:mod:`ad_core.benchmarks.quickstart`). Needs Debian's Chromium (``/usr/bin/chromium``) and the
``playwright`` package (a dev requirement); nothing here imports Streamlit.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
#: Selector of a finished script run (Streamlit marks the app element with its script state).
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
CONNECTED = '[data-testid="stApp"][data-test-connection-state="CONNECTED"]'


class ServerError(RuntimeError):
    """The server did not start, or its log shows a traceback."""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A ``streamlit run app.py`` process (``make app`` semantics: file watcher off, warm-ups on)
    on a free port, with its own run store and log file."""

    def __init__(self, runs: Path, log_path: Path, start_timeout_s: float = 90.0) -> None:
        self.runs = Path(runs)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_path)
        env = {**os.environ, "ANOMALY_LAB_RUNS": str(runs), "PYTHONUNBUFFERED": "1",
               "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
        env.pop("ANOMALY_LAB_NO_WARMUP", None)
        self._log = open(self.log_path, "w+")  # noqa: SIM115 - closed in stop()
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--server.fileWatcherType", "none"], cwd=ROOT, env=env, stdout=self._log,
            stderr=subprocess.STDOUT)
        t_end = time.time() + start_timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        self.ready_s = time.perf_counter() - self.started
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > t_end:
                self.stop()
                raise ServerError(f"streamlit did not start:\n{self.log()[-3000:]}")
            time.sleep(0.2)

    def log(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(errors="replace")

    def traceback(self) -> str | None:
        """The first traceback in the server log (with some context), or ``None``."""
        text = self.log()
        if "Traceback" not in text:
            return None
        i = text.index("Traceback")
        return text[max(0, i - 500):][:4000]

    def stop(self) -> None:
        """Terminate the server (its helper processes exit with it)."""
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Debian Chromium under Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM,
                              args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                    "--disable-background-networking",
                                    # every session is a student's foreground tab: no timer
                                    # throttling of the pages that are not focused
                                    "--disable-background-timer-throttling",
                                    "--disable-renderer-backgrounding",
                                    "--disable-backgrounding-occluded-windows"])
        try:
            yield b
        finally:
            b.close()


def settle(page: Any, timeout: float = 120.0, quiet_s: float = 1.0) -> float:
    """Wait until the app is connected and its script has stopped running for ``quiet_s``.

    Returns the ``time.perf_counter()`` at which that quiet period began (when the page had
    finished drawing), so callers can time a page without counting the wait for quiet.
    """
    page.wait_for_selector(CONNECTED, timeout=timeout * 1000)
    t_end = time.time() + timeout
    quiet_since = None
    while time.time() < t_end:
        if not page.locator(IDLE).count():
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.perf_counter()
        elif time.perf_counter() - quiet_since > quiet_s:
            return quiet_since
        time.sleep(0.05)
    raise TimeoutError("the page kept running")


def errors_on(page: Any) -> str | None:
    """The text of the first Streamlit exception or error box on the page, or ``None``."""
    for sel in ('[data-testid="stException"]', '[data-testid="stAlertContentError"]'):
        loc = page.locator(sel)
        if loc.count():
            return loc.first.inner_text()[:800]
    return None


def sidebar_titles(page: Any) -> list[str]:
    """The page titles in the sidebar navigation, top to bottom."""
    return [t.strip().split("\n")[-1] for t in
            page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()]


def click_sidebar(page: Any, title: str, timeout: float = 120.0) -> float:
    """Click a sidebar entry; seconds from the click until the page finished drawing."""
    t0 = time.perf_counter()
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    return settle(page, timeout=timeout) - t0


def chart_titled(page: Any, text: str) -> Any:
    """The locator of Plotly charts whose title contains ``text`` (the DOM shows titles even
    where the points are WebGL)."""
    return page.locator('[data-testid="stPlotlyChart"] .gtitle', has_text=text)


#: The title of the live score histogram a running job shows (ad_core.viz.training).
LIVE_TITLE = "Test scores at step"


def quick_start(page: Any, timeout_s: float = 300.0) -> tuple[str, float]:
    """Press **Quick start** and wait until the Scores page of the new run shows its score
    histogram and ROC curve. Returns the run id and the seconds from the click to both charts."""
    timed = quick_start_timed(page, timeout_s)
    return timed["run_id"], timed["seconds"]


def quick_start_timed(page: Any, timeout_s: float = 300.0) -> dict[str, Any]:
    """:func:`quick_start`, also timing the live view: seconds from the click until the first
    live score histogram is on screen (``first_histogram_s``; None when the job finished before
    one showed) and how many distinct live histograms the page drew before the run opened
    (``live_frames``)."""
    t0 = time.perf_counter()
    page.get_by_role("button", name=re.compile("Quick start")).click()
    first, titles = None, []
    done = re.compile(r"/scores\?.*run=")
    # until the run's Scores page draws (the URL may carry the previous run's id meanwhile)
    while time.perf_counter() - t0 < timeout_s and not (
            done.search(page.url) and chart_titled(page, "Anomaly scores").count()):
        live = chart_titled(page, LIVE_TITLE)
        try:
            text = live.first.text_content(timeout=100) if live.count() else None
        except Exception:  # the chart was redrawn between count() and text_content()
            text = None
        if text:
            first = first if first is not None else time.perf_counter() - t0
            if not titles or titles[-1] != text:
                titles.append(text)
        page.wait_for_timeout(100)
    page.wait_for_url(done, timeout=timeout_s * 1000)
    chart_titled(page, "Anomaly scores").first.wait_for(timeout=timeout_s * 1000)
    chart_titled(page, "ROC").first.wait_for(timeout=timeout_s * 1000)
    seconds = time.perf_counter() - t0
    settle(page)
    return {"run_id": re.search(r"run=([^&]+)", page.url).group(1), "seconds": seconds,
            "first_histogram_s": first, "live_frames": len(titles), "live_titles": titles}


def projection(page: Any, method: str, timeout_s: float = 180.0) -> float:
    """On the Embeddings page: click ``method`` (t-SNE, UMAP) and wait for its scatter; the
    seconds from the click until the scatter is on screen."""
    t0 = time.perf_counter()
    page.get_by_text(method, exact=True).first.click()
    chart_titled(page, f"{method} of the detector").first.wait_for(timeout=timeout_s * 1000)
    seconds = time.perf_counter() - t0
    settle(page, timeout=timeout_s)
    return seconds


def lasso(page: Any) -> None:
    """Draw a lasso over the middle of the first scatter (Plotly's lasso is the default tool)."""
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    box = chart.locator(".nsewdrag").first.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    w, h = box["width"], box["height"]
    poly = [(cx - w * .35, cy - h * .35), (cx + w * .35, cy - h * .35),
            (cx + w * .35, cy + h * .35), (cx - w * .35, cy + h * .35), (cx - w * .35, cy - h * .3)]
    page.mouse.move(*poly[0])
    page.mouse.down()
    for x, y in poly[1:]:
        page.mouse.move(x, y, steps=8)
    page.mouse.up()
