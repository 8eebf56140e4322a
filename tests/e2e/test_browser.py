"""End to end: a real ``streamlit run app.py`` server driven by headless Debian Chromium, the way a
user drives it — one browser session, clicks only (no URL typed after the first), warm-ups on.

1. Home → **Quick start** (the app's real default: Toll, quick preset, mnist5k digit 8) → the
   Scores page of the new run opens by itself.
2. Every sidebar page is clicked in the same session; each must show that new run, no Streamlit
   exception and no error box.
3. On Embeddings, t-SNE and UMAP are clicked and their scatters must appear; a lasso drawn over
   the UMAP scatter must fill the gallery of selected samples.
4. A class on a fresh server: three sessions press Quick start together — one training, all
   three see their charts (no blank page), a latecomer gets the saved run at once; then two
   sessions train different classes on Train — one shows its place in the queue, both finish.
5. A deep link (``/embeddings?run=…``) on a server no session has visited yet shows the app's
   navigation, not Streamlit's file list of ``pages/``.

Throughout, the server log must hold no traceback. Screenshots go to ``tests/e2e/screenshots/``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from ad_core.benchmarks.browser import (
    CHROMIUM,
    Server,
    ServerError,
    chart_titled,
    chromium,
    errors_on,
    lasso,
    projection,
    quick_start_timed,
    settle,
    sidebar_titles,
)
from ad_core.benchmarks.browser import click_sidebar as _click
from ad_core.benchmarks.browser import quick_start as _quick_start
from ad_core.benchmarks.classroom import choose_class, has_charts

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


def watch_the_replay(page) -> None:
    """Open *Watch it learn* on the Scores page, press Play: the histogram's frame moves on."""
    page.get_by_text("Watch it learn (training replay)").first.click()
    title = chart_titled(page, "Scores · ")
    title.first.wait_for(timeout=120_000)
    first = title.first.text_content()
    assert "step" in first, first
    page.locator(".updatemenu-button", has_text="Play").first.click()
    t_end = time.time() + 30
    while time.time() < t_end and title.first.text_content() == first:
        page.wait_for_timeout(200)
    assert title.first.text_content() != first, "the replay did not move"
    page.screenshot(path=str(SHOTS / "01b-scores-replay.png"), full_page=True)
    assert_clean(page, "Scores replay")


def test_a_newcomer_walks_the_app_by_clicking(server, browser) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server.url)
    settle(page)
    page.screenshot(path=str(SHOTS / "00-home.png"), full_page=True)
    timed = quick_start_timed(page)
    run_id = timed["run_id"]
    # while it trained, the progress view drew the live score histogram, and it changed
    assert timed["first_histogram_s"] is not None and timed["live_frames"] >= 2, timed
    assert_clean(page, "Scores after Quick start")
    page.screenshot(path=str(SHOTS / "01-quickstart-scores.png"), full_page=True)
    watch_the_replay(page)

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


@pytest.fixture(scope="module")
def class_server(tmp_path_factory):
    """A second fresh server (empty run store) for the classroom tests."""
    srv = start_server(tmp_path_factory.mktemp("class-runs"),
                       tmp_path_factory.mktemp("class-log") / "server.log")
    yield srv
    srv.stop()


def run_folders(srv: Server) -> list[str]:
    return sorted(p.parent.name for p in srv.runs.glob("*/config.json"))


def test_three_sessions_same_experiment_train_once_and_all_see_charts(class_server,
                                                                      browser) -> None:
    """A class presses Quick start together: one training, every session gets its charts
    without a reload (no blank page), and a latecomer gets the saved run at once."""
    pages = [browser.new_context(viewport={"width": 1300, "height": 900}).new_page()
             for _ in range(3)]
    for p in pages:
        p.goto(class_server.url)
        settle(p)
    for p in pages:  # within a second
        p.get_by_role("button", name=re.compile("Quick start")).click(no_wait_after=True)
    ids = []
    for i, p in enumerate(pages):
        chart_titled(p, "ROC").first.wait_for(timeout=300_000)
        chart_titled(p, "Anomaly scores").first.wait_for(timeout=60_000)
        settle(p)
        assert_clean(p, f"Scores of session {i}")
        found = re.search(r"run=([^&]+)", p.url)
        assert found, p.url
        ids.append(found.group(1))
    time.sleep(3)  # a page that went blank after drawing would show it now
    for i, p in enumerate(pages):
        assert has_charts(p), f"session {i} went blank: {p.url}"
        p.screenshot(path=str(SHOTS / f"40-class-same-session{i}.png"), full_page=True)
    assert len(set(ids)) == 1, ids
    assert run_folders(class_server) == ids[:1]  # trained once
    late = browser.new_context(viewport={"width": 1300, "height": 900}).new_page()
    late.goto(class_server.url)
    settle(late)
    t0 = time.perf_counter()
    late.get_by_role("button", name=re.compile("Quick start")).click(no_wait_after=True)
    late.get_by_text(re.compile("already trained at")).first.wait_for(timeout=60_000)
    chart_titled(late, "ROC").first.wait_for(timeout=60_000)
    assert time.perf_counter() - t0 < 30
    assert f"run={ids[0]}" in late.url and run_folders(class_server) == ids[:1]
    for p in [*pages, late]:
        p.context.close()
    assert_no_traceback(class_server)


def test_two_sessions_different_experiments_both_finish_with_positions(class_server,
                                                                       browser) -> None:
    """Two students train different classes on Train: one waits with its place in the queue
    shown, both finish and open their own runs."""
    pages = [browser.new_context(viewport={"width": 1300, "height": 900}).new_page()
             for _ in range(2)]
    for digit, p in zip(("3", "5"), pages):
        p.goto(f"{class_server.url}/data")
        settle(p)
        choose_class(p, digit)
        p.get_by_role("button", name=re.compile("Continue to Train")).click()
        settle(p)
    for p in pages:
        p.get_by_role("button", name=re.compile("Start training")).click(no_wait_after=True)
    saw_position = False
    ids: list[str | None] = [None, None]
    t_end = time.time() + 300
    while time.time() < t_end and None in ids:
        for i, p in enumerate(pages):
            if ids[i] is not None:
                continue
            saw_position |= bool(p.get_by_text(re.compile(r"position \d+ of \d+")).count())
            opener = p.locator('[data-testid="stMain"] a').filter(has_text=re.compile("Open$"))
            if opener.count():
                opener.first.click()
                chart_titled(p, "ROC").first.wait_for(timeout=60_000)
                settle(p)
                assert_clean(p, f"Scores of session {i}")
                ids[i] = re.search(r"run=([^&]+)", p.url).group(1)
        time.sleep(0.2)
    assert None not in ids and ids[0] != ids[1], ids
    assert saw_position, "the waiting session never showed its place in the queue"
    for p in pages:
        p.context.close()
    assert_no_traceback(class_server)


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
