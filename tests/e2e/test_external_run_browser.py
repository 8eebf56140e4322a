"""End to end: runs of detectors from outside the project (PyOD, scikit-learn) open on every page of
a real ``streamlit run app.py`` server in headless Chromium, clicked as a user clicks — an image
run (PyOD's ECOD on the 8×8 digits) and a table run (scikit-learn's IsolationForest on breast
cancer), trained by the CLI beforehand. No page may show an exception or an error box, and the
server log must hold no traceback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ad_core.benchmarks.browser import CHROMIUM, Server, chromium, errors_on, settle, sidebar_titles
from ad_core.benchmarks.browser import click_sidebar as _click

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(__file__).resolve().parent / "screenshots"
RUNS = (("digits", "0", "pyod:ECOD"), ("breast_cancer", "benign", "sklearn:IsolationForest"))

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} is not installed (apt-get install chromium)"),
]


def _train(runs: Path, dataset: str, normal: str, detector: str) -> str:
    env = {**os.environ, "ANOMALY_LAB_RUNS": str(runs)}
    out = subprocess.run([sys.executable, "-m", "ad_core", "train", "--dataset", dataset,
                          "--normal", normal, "--detector", detector, "--json"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])["run_id"]


@pytest.mark.parametrize("dataset,normal,detector", RUNS)
def test_an_external_run_opens_on_every_page(tmp_path, dataset, normal, detector) -> None:
    pytest.importorskip("playwright.sync_api")
    if detector.startswith("pyod:"):
        pytest.importorskip("pyod")
    runs = tmp_path / "runs"
    run_id = _train(runs, dataset, normal, detector)
    srv = Server(runs, tmp_path / "server.log")
    try:
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{srv.url}/scores?run={run_id}")
            settle(page)
            titles = sidebar_titles(page)
            assert "Scores" in titles and "Sample" in titles, titles
            slug = re.sub(r"\W+", "-", detector.lower())
            for title in titles:
                _click(page, title)
                err = errors_on(page)
                assert err is None, f"{detector} on {title}: {err}"
                name = re.sub(r"\W+", "-", title.lower())
                page.screenshot(path=str(SHOTS / f"50-{slug}-{name}.png"), full_page=True)
            _click(page, "Scores")
            sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
            assert run_id in sidebar, sidebar[:400]  # the external run is the one shown
        tb = srv.traceback()
        assert tb is None, tb
    finally:
        srv.stop()
