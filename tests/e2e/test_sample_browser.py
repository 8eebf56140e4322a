"""End to end (issue 11): a thumbnail of the Scores gallery opens the Sample page, in a real
``streamlit run app.py`` server driven by headless Debian Chromium.

Toll, GeoTrans and NeuTraL AD are trained on mnist5k digit 8 (their quick presets, shortened to a
few seconds each: this test is about the click-through, not about the models). Then, by clicking
only: the Scores page of the Toll run → the *false negatives* gallery → its first thumbnail → the
Sample page (``/sample?run=…&sample=…``) with one column per run; then *Your own input* → a "3"
drawn on the canvas is scored by all three. The server log must hold no traceback.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from ad_core.benchmarks.browser import CHROMIUM, Server, ServerError, chromium, errors_on, settle

SHOTS = Path(__file__).resolve().parent / "screenshots"
#: Quick presets shortened for a short test.
SHORT = {"toll": {"iterations": 40, "eval_every": 20}, "geotrans": {"epochs": 1},
         "neutral": {"epochs": 2}}
TITLES = {"toll": "Toll (targeted collapse AE)", "geotrans": "GeoTrans", "neutral": "NeuTraL AD"}
#: A "3" as canvas pixel coordinates (the canvas is 280×280).
THREE = [(95, 70), (130, 50), (175, 52), (200, 80), (190, 115), (150, 135), (130, 138),
         (165, 145), (200, 170), (205, 205), (180, 235), (135, 245), (90, 230)]
#: Screen positions of the click targets of the visible clickable gallery.
TILES_JS = """() => {
  const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => g.offsetParent !== null
      && g._fullData && g._fullData.some(t => t.name === 'open sample'));
  if (!gd) return [];
  const r = gd.getBoundingClientRect(), xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const tr = gd._fullData.find(t => t.name === 'open sample');
  return tr.x.map((x, k) => [r.x + xa.l2p(x) + xa._offset, r.y + ya.l2p(tr.y[k]) + ya._offset,
                             tr.customdata[k]]);
}"""

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} is not installed (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    from ad_core.experiment import ExperimentSpec, run_experiment

    root = tmp_path_factory.mktemp("e2e-sample-runs")
    ids = {det: run_experiment(ExperimentSpec("mnist5k", ["8"], det, params=params,
                                              embed_n=500), root=root).run_id
           for det, params in SHORT.items()}
    return root, ids


@pytest.fixture(scope="module")
def server(trained, tmp_path_factory):
    try:
        srv = Server(trained[0], tmp_path_factory.mktemp("log") / "server.log")
    except ServerError as e:
        pytest.fail(str(e))
    yield srv
    srv.stop()


def test_a_gallery_thumbnail_opens_the_sample_page_with_every_run(trained, server) -> None:
    pytest.importorskip("playwright.sync_api")
    _, ids = trained
    SHOTS.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.goto(f"{server.url}/scores?run={ids['toll']}")
        settle(page)
        print(f"Scores page drawn {time.perf_counter() - t_start:.1f} s after the browser started")
        tab = page.get_by_role("tab", name=re.compile(r"false negatives \(\d+\)"))
        if tab.inner_text().strip().endswith("(0)"):  # a model catching every anomaly
            tab = page.get_by_role("tab", name=re.compile(r"most anomalous"))
        tab.click()
        settle(page)
        tiles = page.evaluate(TILES_JS)
        assert tiles, "the gallery has no clickable thumbnails"
        x, y, row = tiles[0]
        t0 = time.perf_counter()
        page.mouse.click(x, y)
        page.wait_for_url(re.compile(r"/sample\?.*sample="), timeout=60_000)
        print(f"Sample page of test row {row} drawn "
              f"{settle(page, quiet_s=1.5) - t0:.1f} s after the click")
        assert f"run={ids['toll']}" in page.url and f"sample={row}" in page.url, page.url
        assert errors_on(page) is None, errors_on(page)
        heads = page.locator('[data-testid="stHeadingWithActionElements"] h4').all_inner_texts()
        for det, title in TITLES.items():
            assert any(title in h for h in heads), (det, heads)
            assert ids[det] in page.locator("body").inner_text()
        body = page.locator("body").inner_text()
        assert f"Test sample #{row}" in body and body.count("at the run's threshold") == 3
        page.set_viewport_size({"width": 1500, "height": 3000})
        settle(page)
        page.screenshot(path=str(SHOTS / "30-sample-from-gallery.png"), full_page=True)

        page.set_viewport_size({"width": 1500, "height": 1100})
        page.get_by_text("Your own input", exact=True).first.click()
        settle(page)
        canvas = next(c for c in page.locator("canvas").all()
                      if (b := c.bounding_box()) and abs(b["width"] - 280) < 2)
        box = canvas.bounding_box()
        page.mouse.move(box["x"] + THREE[0][0], box["y"] + THREE[0][1])
        page.mouse.down()
        for px, py in THREE[1:]:
            page.mouse.move(box["x"] + px, box["y"] + py, steps=6)
        t0 = time.perf_counter()
        page.mouse.up()
        page.get_by_text("What the models receive").first.wait_for(timeout=60_000)
        seconds = settle(page) - t0
        assert errors_on(page) is None, errors_on(page)
        body = page.locator("body").inner_text()
        assert "drawing down-sampled to 28×28" in body
        assert body.count("at the run's threshold") == 3, body[-2000:]
        page.screenshot(path=str(SHOTS / "31-sample-drawn.png"), full_page=True)
        print(f"drawn digit scored by 3 runs {seconds:.2f} s after the pen lifted")
    tb = server.traceback()
    assert tb is None, tb
