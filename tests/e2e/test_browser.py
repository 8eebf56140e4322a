"""End to end: a real ``streamlit run app.py`` server driven by headless Debian Chromium.

Clicks Quick start on Home, waits until the app opens the finished run's Scores page, then visits
every page of the sidebar with that run and asserts that none shows a Streamlit exception.
Screenshots go to ``tests/e2e/screenshots/``. The quick start trains the app's real default
(Toll, quick preset, on mnist5k digit 8: ~10 s on 2 idle CPU cores), so every "look inside" page
is visited with a deep detector's artefacts.
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
from urllib.parse import urlparse

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(__file__).resolve().parent / "screenshots"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} is not installed (apt-get install chromium)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A streamlit server on a free port with an empty run store; yields its base URL."""
    port = _free_port()
    env = {**os.environ, "ANOMALY_LAB_RUNS": str(tmp_path_factory.mktemp("e2e-runs")),
           "ANOMALY_LAB_NO_WARMUP": "1", "OMP_NUM_THREADS": "2", "PYTHONUNBUFFERED": "1"}
    log = open(tmp_path_factory.mktemp("e2e-log") / "server.log", "w+")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true", "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false"], cwd=ROOT, env=env, stdout=log,
        stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        t_end = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > t_end:
                log.seek(0)
                pytest.fail(f"streamlit did not start:\n{log.read()[-3000:]}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM,
                              args=["--no-sandbox", "--disable-gpu",
                                    "--disable-background-networking"])
        yield b
        b.close()


def settle(page, timeout: float = 60.0) -> None:
    """Wait until the script has finished running (no status widget for a while)."""
    page.wait_for_selector('[data-testid="stMainBlockContainer"] h1, '
                           '[data-testid="stMainBlockContainer"] h2', timeout=timeout * 1000)
    t_end = time.time() + timeout
    quiet_since = None
    while time.time() < t_end:
        busy = page.locator('[data-testid="stStatusWidget"]').count() > 0
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.time()
        elif time.time() - quiet_since > 1.5:
            return
        time.sleep(0.2)


def test_quick_start_then_every_page(server, browser) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server)
    settle(page)
    page.screenshot(path=str(SHOTS / "00-home.png"), full_page=True)
    page.get_by_role("button", name=re.compile("Quick start")).click()
    page.wait_for_url(re.compile(r"/scores\?.*run="), timeout=240_000)
    settle(page)
    run_id = re.search(r"run=([^&]+)", page.url).group(1)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(SHOTS / "01-quickstart-scores.png"), full_page=True)
    links = page.locator('[data-testid="stSidebarNav"] a')
    paths = [links.nth(i).get_attribute("href") for i in range(links.count())]
    slugs = [urlparse(h).path.strip("/").split("/")[-1] or "home" for h in paths]
    assert {"home", "data", "train", "embeddings", "compare"} <= set(slugs), slugs
    for i, slug in enumerate(slugs):
        page.goto(f"{server}/{slug if slug != 'home' else ''}?run={run_id}")
        try:
            settle(page)
        except Exception:
            page.screenshot(path=str(SHOTS / f"{i + 2:02d}-{slug}-TIMEOUT.png"), full_page=True)
            raise
        errors = page.locator('[data-testid="stException"]')
        page.screenshot(path=str(SHOTS / f"{i + 2:02d}-{slug}.png"), full_page=True)
        assert errors.count() == 0, f"{slug}: {errors.first.inner_text()[:500]}"
    page.close()
