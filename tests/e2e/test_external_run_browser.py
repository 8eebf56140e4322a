"""End to end: runs of detectors from outside the project (PyOD, scikit-learn) open on every page of
a real ``streamlit run app.py`` server in headless Chromium, clicked as a user clicks — an image
run (PyOD's ECOD on the 8×8 digits, normal class 8; on mnist5k the same run takes minutes of
this suite, since ECOD scores one row at a time) and a table run
(scikit-learn's IsolationForest on breast cancer), trained beforehand (the PyOD one by the CLI)
beside a native IsolationForest run of the same task, so the Sample page compares the two. No page may show
an exception or an error box, and the server log must hold no traceback."""

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
RUNS = (("digits", "8", "pyod:ECOD"), ("breast_cancer", "benign", "sklearn:IsolationForest"))

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} is not installed (apt-get install chromium)"),
]


def _cli_train(runs: Path, dataset: str, normal: str, detector: str) -> str:
    env = {**os.environ, "ANOMALY_LAB_RUNS": str(runs)}
    out = subprocess.run([sys.executable, "-m", "ad_core", "train", "--dataset", dataset,
                          "--normal", normal, "--detector", detector, "--json"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])["run_id"]


def _train(runs: Path, dataset: str, normal: str, detector: str) -> str:
    from ad_core.experiment import ExperimentSpec, run_experiment

    return run_experiment(ExperimentSpec(dataset, [normal], detector), root=runs).run_id


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One server over a run store holding, per task, the external run and a native
    IsolationForest run; the issue's own command trains the PyOD one."""
    pytest.importorskip("playwright.sync_api")
    pytest.importorskip("pyod")
    runs = tmp_path_factory.mktemp("external-runs")
    ids = {}
    for dataset, normal, detector in RUNS:
        train = _cli_train if detector.startswith("pyod:") else _train
        ids[detector] = (train(runs, dataset, normal, detector),
                         _train(runs, dataset, normal, "iforest"))
    srv = Server(runs, tmp_path_factory.mktemp("external-log") / "server.log")
    yield srv, ids
    srv.stop()


@pytest.mark.parametrize("dataset,normal,detector", RUNS)
def test_an_external_run_opens_on_every_page(served, dataset, normal, detector) -> None:
    srv, ids = served
    run_id, native = ids[detector]
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
        _click(page, "Sample")  # the external run beside the native one, one column each
        main = page.locator('[data-testid="stMain"]').inner_text()
        assert run_id[-6:] in main and native[-6:] in main, main[:600]
        _click(page, "Scores")
        sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
        assert run_id in sidebar, sidebar[:400]  # the external run is the one shown
    tb = srv.traceback()
    assert tb is None, tb
