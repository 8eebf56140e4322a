"""End to end: a real ``streamlit run app.py`` server driven by headless Debian Chromium, the way a
user drives it — one browser session, clicks only (no URL typed after the first), warm-ups on.

1. Home → **Quick start** (the app's real default: Toll, quick preset, mnist5k digit 8) → the
   Scores page of the new run opens by itself.
2. Every sidebar page is clicked in the same session; each must show that new run, no Streamlit
   exception and no error box.
3. On Embeddings, t-SNE and UMAP are clicked and their scatters must appear; a lasso drawn over
   the UMAP scatter must fill the gallery of selected samples.
4. Two more browser sessions press Quick start at the same moment: each sees its own job, both
   finish, each lands on its own run.
5. A deep link (``/embeddings?run=…``) on a server no session has visited yet shows the app's
   navigation, not Streamlit's file list of ``pages/``.

Throughout, the server log must hold no traceback. Screenshots go to ``tests/e2e/screenshots/``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(__file__).resolve().parent / "screenshots"
LOOK_INSIDE = ("Scores", "Reconstructions", "Transformations", "Contributions", "Embeddings")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} is not installed (apt-get install chromium)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A ``streamlit run app.py`` process on a free port with its own run store and log."""

    def __init__(self, runs: Path, log_path: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = {**os.environ, "ANOMALY_LAB_RUNS": str(runs), "PYTHONUNBUFFERED": "1",
               "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
        env.pop("ANOMALY_LAB_NO_WARMUP", None)
        self._log = open(log_path, "w+")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--server.fileWatcherType", "none"], cwd=ROOT, env=env, stdout=self._log,
            stderr=subprocess.STDOUT)
        t_end = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > t_end:
                pytest.fail(f"streamlit did not start:\n{self.log()[-3000:]}")
            time.sleep(0.3)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def assert_no_traceback(self) -> None:
        text = self.log()
        assert "Traceback" not in text, text[text.index("Traceback") - 500:][:4000]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("e2e-runs"), tmp_path_factory.mktemp("log") / "server.log")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM,
                              args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                    "--disable-background-networking"])
        yield b
        b.close()


def settle(page, timeout: float = 120.0) -> None:
    """Wait until the app is connected and its script has stopped running for a moment."""
    page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]',
                           timeout=timeout * 1000)
    t_end = time.time() + timeout
    quiet_since = None
    while time.time() < t_end:
        idle = page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').count()
        if not idle:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.time()
        elif time.time() - quiet_since > 1.0:
            return
        time.sleep(0.2)
    raise TimeoutError("the page kept running")


def assert_clean(page, what: str) -> None:
    """No Streamlit exception and no error box on the page."""
    exc = page.locator('[data-testid="stException"]')
    assert exc.count() == 0, f"{what}: {exc.first.inner_text()[:800]}"
    err = page.locator('[data-testid="stAlertContentError"]')
    assert err.count() == 0, f"{what}: {err.first.inner_text()[:800]}"


def click_sidebar(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    settle(page)


def quick_start(page, timeout_s: float = 300) -> str:
    """Press Quick start and wait until the Scores page of the new run is open; its run id."""
    page.get_by_role("button", name=re.compile("Quick start")).click()
    page.wait_for_url(re.compile(r"/scores\?.*run="), timeout=timeout_s * 1000)
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=60_000)
    settle(page)
    return re.search(r"run=([^&]+)", page.url).group(1)


def wait_for_scatter(page, method: str, timeout_s: float = 180) -> None:
    """Wait for the Embeddings scatter titled with ``method`` (its points are WebGL, so the
    figure's title is what the DOM shows)."""
    title = page.locator('[data-testid="stPlotlyChart"] .gtitle',
                         has_text=f"{method} of the detector")
    title.first.wait_for(timeout=timeout_s * 1000)
    settle(page, timeout=timeout_s)


def lasso(page) -> None:
    """Draw a lasso over the middle of the first scatter (Plotly's lasso is the default tool)."""
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    drag = chart.locator(".nsewdrag").first
    box = drag.bounding_box()
    cx, cy, w, h = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, box["width"], \
        box["height"]
    poly = [(cx - w * .35, cy - h * .35), (cx + w * .35, cy - h * .35),
            (cx + w * .35, cy + h * .35), (cx - w * .35, cy + h * .35), (cx - w * .35, cy - h * .3)]
    page.mouse.move(*poly[0])
    page.mouse.down()
    for x, y in poly[1:]:
        page.mouse.move(x, y, steps=8)
    page.mouse.up()


def test_a_newcomer_walks_the_app_by_clicking(server, browser) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server.url)
    settle(page)
    page.screenshot(path=str(SHOTS / "00-home.png"), full_page=True)
    run_id = quick_start(page)
    assert_clean(page, "Scores after Quick start")
    page.screenshot(path=str(SHOTS / "01-quickstart-scores.png"), full_page=True)

    titles = [t.strip().split("\n")[-1] for t in
              page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()]
    assert {"Home", "Data", "Train", *LOOK_INSIDE, "Compare"} <= set(titles), titles
    assert not {"common", "view helpers", "view_helpers"} & {t.lower() for t in titles}, titles
    for i, title in enumerate(titles):
        click_sidebar(page, title)
        slug = re.sub(r"\W+", "-", title.lower())
        page.screenshot(path=str(SHOTS / f"{i + 2:02d}-{slug}.png"), full_page=True)
        assert_clean(page, title)
        if title in LOOK_INSIDE:  # the run just trained is the one shown, on every page
            sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
            assert run_id in sidebar, f"{title} shows another run: {sidebar[:400]}"
            assert f"run={run_id}" in page.url

    click_sidebar(page, "Embeddings")
    for method in ("t-SNE", "UMAP"):
        page.get_by_text(method, exact=True).first.click()
        wait_for_scatter(page, method)
        assert_clean(page, f"Embeddings {method}")
        page.screenshot(path=str(SHOTS / f"20-embeddings-{method.lower()}.png"), full_page=True)
    lasso(page)
    page.get_by_text(re.compile(r"samples selected")).first.wait_for(timeout=60_000)
    settle(page)
    assert_clean(page, "Embeddings lasso")
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 2  # scatter + gallery
    page.screenshot(path=str(SHOTS / "21-embeddings-lasso.png"), full_page=True)
    page.close()
    server.assert_no_traceback()


def test_two_sessions_train_at_once_and_each_sees_its_own(server, browser) -> None:
    pages = [browser.new_context().new_page() for _ in range(2)]
    for p in pages:
        p.set_viewport_size({"width": 1300, "height": 900})
        p.goto(server.url)
        settle(p)
    for p in pages:  # both click within a second
        p.get_by_role("button", name=re.compile("Quick start")).click()
    for p in pages:  # each sidebar lists exactly its own job, as the page's progress bar does
        p.get_by_text(re.compile(r"Training toll|Waiting in the queue")).first.wait_for(
            timeout=60_000)
        sidebar = p.locator('[data-testid="stSidebar"]').inner_text()
        assert "No training running" not in sidebar, sidebar[:400]
        assert sidebar.count("toll ·") == 1, sidebar[:400]
    ids = []
    for p in pages:
        p.wait_for_url(re.compile(r"/scores\?.*run="), timeout=300_000)
        settle(p)
        assert_clean(p, "Scores after a concurrent Quick start")
        found = re.search(r"run=([^&]+)", p.url)
        assert found, p.url
        ids.append(found.group(1))
    assert ids[0] != ids[1]
    for p, rid in zip(pages, ids):
        assert rid in p.locator('[data-testid="stSidebar"]').inner_text()
        p.context.close()
    server.assert_no_traceback()


def test_a_deep_link_on_a_fresh_server_shows_the_apps_navigation(browser, tmp_path) -> None:
    (tmp_path / "runs").mkdir()
    fresh = Server(tmp_path / "runs", tmp_path / "fresh.log")
    try:
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.goto(f"{fresh.url}/embeddings?run=does-not-exist")
        settle(page)
        titles = [t.strip().split("\n")[-1] for t in
                  page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()]
        assert "Embeddings" in titles and "Home" in titles and "Teaching demos" in titles, titles
        assert not {"common", "view helpers", "app"} & {t.lower() for t in titles}, titles
        assert "/embeddings" in page.url
        assert page.locator("h1", has_text="Embeddings").count() == 1
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(SHOTS / "30-deep-link-fresh-server.png"), full_page=True)
        page.close()
        fresh.assert_no_traceback()
    finally:
        fresh.stop()
