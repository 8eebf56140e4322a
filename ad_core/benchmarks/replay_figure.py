"""The README's picture of a training replay: frames of a real run's "Watch it learn" figures, as
the browser draws them.

Trains the quick start's experiment (Toll, quick preset, mnist5k, normal class 8, seed 0) with
snapshots (or takes ``--run RUN_ID`` from the run store), writes the replay's offline HTML (the
file the pages' *Download replay* button gives), opens it in headless Chromium, moves each
animation to a few snapshots (the first, two in between, the final model) and screenshots it.
The frames become one PNG (score histogram and embedding, one row each) and an animated GIF of
the score histogram at every snapshot.

    python -m ad_core.benchmarks.replay_figure

Writes ``docs/results/replay_frames.png`` and ``docs/results/replay_scores.gif`` (the HTML itself,
5 MB with plotly.js inlined, is a temporary file). Needs ``/usr/bin/chromium`` and playwright.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ad_core.benchmarks import browser as B

SHOW = """(i) => { const gds = document.querySelectorAll('.js-plotly-plot');
  return Promise.all([...gds].map(gd => gd._transitionData && gd._transitionData._frames
    && gd._transitionData._frames.length ? Plotly.animate(gd, ['f' + Math.min(i,
    gd._transitionData._frames.length - 1)], {frame: {duration: 0, redraw: true},
    transition: {duration: 0}, mode: 'immediate'}) : null)); }"""


def _replay(run_id: str | None, root: Path) -> tuple[Any, Any]:
    from ad_core.experiment import ExperimentSpec, run_experiment
    from ad_core.runs import load_run
    from ad_core.snapshots import SnapshotRecorder, load_replay, save_snapshots

    if run_id is None:
        rec = SnapshotRecorder()
        res = run_experiment(ExperimentSpec("mnist5k", ["8"], "toll", seed=0), rec, root=root)
        save_snapshots(rec, res, root)
        run = load_run(res.run_id, root)
    else:
        run = load_run(run_id)
    rep = load_replay(run.path)
    if rep is None:
        raise SystemExit(f"run {run.run_id} has no training snapshots")
    return run, rep


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ad_core.benchmarks.replay_figure",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--run", default=None, help="a saved run with snapshots (default: train the "
                    "quick start's experiment afresh)")
    ap.add_argument("--out", type=Path, default=None, help="results folder (docs/results)")
    args = ap.parse_args(argv)
    from PIL import Image

    from ad_core.bench import RESULTS_DIR
    from ad_core.viz import replay as V

    out = Path(args.out) if args.out else RESULTS_DIR
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="replay-figure-") as tmp:
        run, rep = _replay(args.run, Path(tmp))
        figs = [V.score_replay(rep), V.embedding_replay(rep)]
        for f in figs:
            f.update_layout(width=760)
        html = Path(tmp) / "replay.html"  # 5 MB with plotly.js inlined: not kept
        html.write_text(V.replay_html(figs, f"Watch it learn: {run.title}"), encoding="utf-8")
        n = len(rep)
        picks = sorted({0, n // 3, (2 * n) // 3, n - 1})
        rows: dict[int, list[Image.Image]] = {0: [], 1: []}
        gif: list[Image.Image] = []
        with B.chromium() as browser:
            page = browser.new_page(viewport={"width": 800, "height": 900})
            page.goto(html.resolve().as_uri())
            page.wait_for_selector(".js-plotly-plot")
            charts = page.locator(".js-plotly-plot")
            for i in range(n):
                page.evaluate(SHOW, i)
                page.wait_for_timeout(150)
                shots = [Image.open(io.BytesIO(charts.nth(k).screenshot())).convert("RGB")
                         for k in range(2)]
                gif.append(shots[0])
                if i in picks:
                    for k in range(2):
                        rows[k].append(shots[k])
    w, h = rows[0][0].size
    h2 = rows[1][0].size[1]
    grid = Image.new("RGB", (w * len(picks), h + h2), "white")
    for j in range(len(picks)):
        grid.paste(rows[0][j], (j * w, 0))
        grid.paste(rows[1][j].resize((w, h2)), (j * w, h))
    png = out / "replay_frames.png"
    grid.save(png, optimize=True)
    gif_path = out / "replay_scores.gif"
    gif[0].save(gif_path, save_all=True, append_images=gif[1:], duration=700, loop=0,
                optimize=True)
    print(f"run {run.run_id} ({len(rep)} snapshots, {time.strftime('%Y-%m-%d %H:%M')}): wrote "
          f"{png} and {gif_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
