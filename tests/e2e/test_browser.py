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

import re
from pathlib import Path

import pytest

from ad_core.benchmarks.browser import (
    CHROMIUM,
    Server,
    ServerError,
    chromium,
    errors_on,
    lasso,
    projection,
    settle,
    sidebar_titles,
)
from ad_core.benchmarks.browser import click_sidebar as _click
from ad_core.benchmarks.browser import quick_start as _quick_start

SHOTS = Path(__file__).resolve().parent / "screenshots"
LOOK_INSIDE = ("Scores", "Reconstructions", "Transformations", "Contributions", "Embeddings")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} is not installed (apt-get install chromium)"),
]


def start_server(runs: Path, log: Path) -> Server:
    try:
        return Server(runs, log)
    except ServerError as e:
        pytest.fail(str(e))


def assert_no_traceback(srv: Server) -> None:
    tb = srv.traceback()
    assert tb is None, tb


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("e2e-runs"),
                       tmp_path_factory.mktemp("log") / "server.log")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    pytest.importorskip("playwright.sync_api")
    with chromium() as b:
        yield b


def assert_clean(page, what: str) -> None:
    """No Streamlit exception and no error box on the page."""
    err = errors_on(page)
    assert err is None, f"{what}: {err}"


def click_sidebar(page, title: str) -> None:
    _click(page, title)


def quick_start(page) -> str:
    return _quick_start(page)[0]


def test_a_newcomer_walks_the_app_by_clicking(server, browser) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server.url)
    settle(page)
    page.screenshot(path=str(SHOTS / "00-home.png"), full_page=True)
    run_id = quick_start(page)
    assert_clean(page, "Scores after Quick start")
    page.screenshot(path=str(SHOTS / "01-quickstart-scores.png"), full_page=True)

    titles = sidebar_titles(page)
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
        projection(page, method)
        assert_clean(page, f"Embeddings {method}")
        page.screenshot(path=str(SHOTS / f"20-embeddings-{method.lower()}.png"), full_page=True)
    lasso(page)
    page.get_by_text(re.compile(r"samples selected")).first.wait_for(timeout=60_000)
    settle(page)
    assert_clean(page, "Embeddings lasso")
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 2  # scatter + gallery
    page.screenshot(path=str(SHOTS / "21-embeddings-lasso.png"), full_page=True)
    page.close()
    assert_no_traceback(server)


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
        assert found, (p.url, p.locator('[data-testid="stSidebar"]').inner_text()[-600:],
                       p.locator('[data-testid="stMain"]').inner_text()[:600])
        ids.append(found.group(1))
    assert ids[0] != ids[1]
    for p, rid in zip(pages, ids):
        assert rid in p.locator('[data-testid="stSidebar"]').inner_text()
        p.context.close()
    assert_no_traceback(server)


def test_a_deep_link_on_a_fresh_server_shows_the_apps_navigation(browser, tmp_path) -> None:
    (tmp_path / "runs").mkdir()
    fresh = start_server(tmp_path / "runs", tmp_path / "fresh.log")
    try:
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.goto(f"{fresh.url}/embeddings?run=does-not-exist")
        settle(page)
        titles = sidebar_titles(page)
        assert "Embeddings" in titles and "Home" in titles and "Teaching demos" in titles, titles
        assert not {"common", "view helpers", "app"} & {t.lower() for t in titles}, titles
        assert "/embeddings" in page.url
        assert page.locator("h1", has_text="Embeddings").count() == 1
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(SHOTS / "30-deep-link-fresh-server.png"), full_page=True)
        page.close()
        assert_no_traceback(fresh)
    finally:
        fresh.stop()
