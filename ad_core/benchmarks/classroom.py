"""A class on one server, measured as the students see it: one ``streamlit run app.py`` server,
one headless Chromium, one browser context per student.

Two scenes, each on a fresh server with an empty run store:

- **(a) same experiment**: N sessions press *Quick start* within about a second. Per session:
  the click → its Scores page shows the score histogram and the ROC curve. Reuse means one
  training for all of them.
- **(b) different experiments**: session i picks mnist5k digit ``i % 10`` on **Data**, goes to
  **Train** and presses *Start training* (the quick preset of the default detector), all within a
  few seconds; each then waits on Train (its place in the queue is recorded when shown) and
  follows its *Open* link as soon as its job is done. Per session: the click on *Start training* → the
  Scores page's charts. Its target is relative to *one quick start*: one session alone on
  another fresh server, measured just before scene (b). The server log tells how many jobs
  had to wait (each of those sessions must have shown its place in the queue).

Scene (b) can run on a bigger training pool: ``--workers K`` (``ANOMALY_LAB_TRAINING_WORKERS`` of
the server: K training processes) and ``--engine ray`` (``ANOMALY_LAB_ENGINE=ray``: each job a
Ray task on a local Ray of K × threads CPUs, or ``--ray-address``). Such a run is one more row of
scene (b), kept beside the others in the same files (the default run's rows stay as they were);
it records the scene's wall time (first click → last session's charts), each job's wait in the
queue and its training time (from the server log), and whether each class's AUROC equals the
one-worker run's.

Both scenes record: click → charts (min / median / p95 / max), *blank pages* (a session whose
job finished but whose page shows neither charts nor progress: must be 0), trainings actually
run (run folders written), peak RSS of the server's process tree (sampled every 0.25 s from
``/proc``), and tracebacks in the server log. Then, on scene (a)'s server, every sidebar page
is visited once in every session and the tree's RSS is read again (what N sessions parked on
finished runs cost). Run::

    python -m ad_core.benchmarks.classroom --sessions 10
    python -m ad_core.benchmarks.classroom --sessions 4 --scenes b --workers 2
    python -m ad_core.benchmarks.classroom --sessions 4 --scenes b --workers 2 --engine ray

Writes ``docs/results/classroom.{json,md}``. Needs ``/usr/bin/chromium`` and playwright.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from ad_core.benchmarks import browser as B

OUT = Path(__file__).resolve().parents[2] / "docs" / "results"
#: Targets of the classroom issue with N = 10 on the 2-core machine.
TARGET_SAME_S = 30.0
TARGET_EXTRA_S = 15.0
TARGET_RSS_GIB = 3.0
#: A session still without charts this long after its job finished counts as a blank page.
BLANK_GRACE_S = 20.0


# ----------------------------------------------------------------------------- memory
def tree_rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants (read from ``/proc``)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            status = (d / "status").read_text()
        except (OSError, ValueError, IndexError):
            continue
        m = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        rss[int(d.name)] = int(m.group(1)) * 1024 if m else 0
        children.setdefault(ppid, []).append(int(d.name))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(children.get(p, []))
    return total


class RssSampler:
    """Samples a process tree's RSS in a thread; ``peak`` in bytes."""

    def __init__(self, pid: int, every_s: float = 0.25) -> None:
        self.pid, self.every_s, self.peak = pid, every_s, 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_bytes(self.pid))
            self._stop.wait(self.every_s)

    def stop(self) -> int:
        self._stop.set()
        self._t.join(2)
        return self.peak


# ----------------------------------------------------------------------------- pages
def _new_page(browser: Any) -> Any:
    """One student's tab (its own browser context); its console and websocket closes are kept
    in ``page.lab_log`` for the scene's log directory."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    log: list[str] = []
    page.lab_log = log
    page.on("console", lambda m: log.append(f"{time.strftime('%H:%M:%S')} console "
                                            f"{m.type}: {m.text}"))
    frames = {"sent": 0, "received": 0, "last_sent": "", "last_received": ""}
    page.lab_frames = frames

    def on_ws(ws: Any) -> None:
        ws.on("close", lambda _ws: log.append(f"{time.strftime('%H:%M:%S')} websocket closed"))

        def count(kind: str) -> Any:
            def f(_payload: Any) -> None:
                frames[kind] += 1
                frames[f"last_{kind}"] = time.strftime("%H:%M:%S")
            return f
        ws.on("framesent", count("sent"))
        ws.on("framereceived", count("received"))

    page.on("websocket", on_ws)
    page.on("pageerror", lambda e: log.append(f"{time.strftime('%H:%M:%S')} pageerror: {e}"))
    return page


def _save_logs(pages: list[Any], log_dir: Path, scene: str) -> None:
    for i, p in enumerate(pages):
        (log_dir / f"scene-{scene}-session{i}.log").write_text(
            "\n".join([*p.lab_log, f"websocket frames: {p.lab_frames}"]) + "\n")


def has_charts(page: Any) -> bool:
    """The Scores page's histogram and ROC curve are both on screen."""
    return bool(B.chart_titled(page, "ROC").count() and B.chart_titled(page, "Anomaly scores")
                .count())


def shows_something(page: Any) -> bool:
    """The main area shows something (text, a progress bar or a chart)."""
    main = page.locator('[data-testid="stMain"]')
    try:
        return bool(main.count() and main.first.inner_text(timeout=2000).strip())
    except Exception:
        return False


def _percentiles(xs: list[float]) -> dict[str, float | None]:
    if not xs:
        return {"min": None, "median": None, "p95": None, "max": None}
    s = sorted(xs)
    p95 = s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]
    return {"min": s[0], "median": statistics.median(s), "p95": p95, "max": s[-1]}


def _runs_written(root: Path) -> list[dict[str, Any]]:
    out = []
    for p in sorted(root.glob("*/config.json")):
        with_cfg = json.loads(p.read_text())
        out.append({"run_id": with_cfg.get("run_id"), "normal": with_cfg.get("normal"),
                    "finished": with_cfg.get("finished"),
                    "auroc": json.loads((p.parent / "metrics.json").read_text()).get("auroc")})
    return out


def wait_for_charts(pages: list[Any], t_clicks: list[float], runs_root: Path,
                    timeout_s: float, on_tick: Any = None) -> tuple[list[float | None], list[str]]:
    """Poll every session until its charts are on screen; returns click → charts seconds (None
    for a session that never drew them) and, per session, ``"ok"``, ``"blank"`` (its job had
    finished ``BLANK_GRACE_S`` ago but the page showed nothing) or ``"timeout"``."""
    n = len(pages)
    got: list[float | None] = [None] * n
    t_end = time.perf_counter() + timeout_s
    while time.perf_counter() < t_end and any(g is None for g in got):
        for i, p in enumerate(pages):
            if got[i] is None and has_charts(p):
                got[i] = time.perf_counter() - t_clicks[i]
            elif got[i] is None and on_tick is not None:
                on_tick(i, p)
        time.sleep(0.2)
    verdict = []
    for i, p in enumerate(pages):
        if got[i] is not None:
            verdict.append("ok")
        else:
            verdict.append("timeout" if shows_something(p) else "blank")
    return got, verdict


def _outcome(n: int, got: list[float | None], verdict: list[str],
             written: list[dict[str, Any]], tb: str | None) -> dict[str, Any]:
    """What both scenes report: per-session times and their summary, blank / unfinished
    sessions, the runs written and the first traceback of the server log."""
    return {"sessions": n, "click_to_charts_s": got,
            "summary": _percentiles([g for g in got if g is not None]), "verdicts": verdict,
            "blank_pages": verdict.count("blank"), "not_finished": verdict.count("timeout"),
            "trainings": len(written), "runs": written, "traceback": tb}


def scene_same(browser: Any, n: int, log_dir: Path, timeout_s: float,
               tag: str = "a") -> dict[str, Any]:
    """(a) N sessions press Quick start together; then every page once in every session.
    With ``n = 1`` (``tag="one"``) it is one quick start alone: scene (b)'s yardstick."""
    with tempfile.TemporaryDirectory(prefix=f"classroom-{tag}-") as runs:
        server = B.Server(Path(runs), log_dir / f"server-{tag}.log")
        sampler = RssSampler(server.proc.pid)
        try:
            warm = _new_page(browser)  # one visit starts the training process; then idle
            warm.goto(server.url)
            B.settle(warm)
            warm.context.close()
            time.sleep(8)
            rss_idle = tree_rss_bytes(server.proc.pid)
            pages = [_new_page(browser) for _ in range(n)]
            for p in pages:
                p.goto(server.url)
            for p in pages:
                B.settle(p)
            t_clicks = []
            for p in pages:
                t_clicks.append(time.perf_counter())
                p.get_by_role("button", name=re.compile("Quick start")).click(no_wait_after=True)
            got, verdict = wait_for_charts(pages, t_clicks, Path(runs), timeout_s)
            # blank pages: wait a little more and look again at every session that drew
            time.sleep(BLANK_GRACE_S / 4)
            for i, p in enumerate(pages):
                if verdict[i] == "ok" and not has_charts(p):
                    verdict[i] = "blank"
            for i, p in enumerate(pages[:3]):
                p.screenshot(path=str(log_dir / f"scene-{tag}-session{i}.png"))
            written = _runs_written(Path(runs))
            peak_training = sampler.peak
            # memory of N sessions parked on finished runs, every page visited once
            slow = []
            for p in pages:
                for title in B.sidebar_titles(p):
                    s = B.click_sidebar(p, title, timeout=180)
                    if s > 3.0:
                        slow.append((title, round(s, 1)))
            for p in pages:
                B.click_sidebar(p, "Scores", timeout=180)
            time.sleep(2)
            rss_parked = tree_rss_bytes(server.proc.pid)
            tb = server.traceback()
            for p in pages:
                p.context.close()
        finally:
            peak_all = sampler.stop()
            server.stop()
    return {**_outcome(n, got, verdict, written, tb),
        "peak_rss_training_gib": peak_training / 2**30,
        "peak_rss_gib": peak_all / 2**30, "rss_parked_all_pages_gib": rss_parked / 2**30,
        "rss_idle_gib": rss_idle / 2**30,
        "rss_per_session_mib": (rss_parked - rss_idle) / n / 2**20,
        "slow_pages": slow}


def choose_class(page: Any, digit: str) -> None:
    """On the Data page: make ``digit`` the only normal class."""
    box = page.locator('[data-testid="stMultiSelect"]', has_text="Normal class").first
    clear = box.locator('[aria-label="Clear all"]')
    if clear.count():
        clear.first.click()
        B.settle(page)
    box.locator("input").first.click()
    page.keyboard.type(digit)
    page.get_by_role("option", name=re.compile(rf"^{digit} \(")).first.click()
    page.keyboard.press("Escape")
    B.settle(page)


def scene_different(browser: Any, n: int, log_dir: Path, timeout_s: float,
                    tag: str = "b") -> dict[str, Any]:
    """(b) N sessions each train a different mnist5k class (quick preset) on Train."""
    with tempfile.TemporaryDirectory(prefix=f"classroom-{tag}-") as runs:
        server = B.Server(Path(runs), log_dir / f"server-{tag}.log")
        sampler = RssSampler(server.proc.pid)
        try:
            pages = [_new_page(browser) for _ in range(n)]
            for i, p in enumerate(pages):
                p.goto(f"{server.url}/data")
                B.settle(p, timeout=180)
                choose_class(p, str(i % 10))
                p.get_by_role("button", name=re.compile("Continue to Train")).click()
                B.settle(p, timeout=180)
            t_clicks = []
            for p in pages:
                t_clicks.append(time.perf_counter())
                p.get_by_role("button", name=re.compile("Start training")).click(
                    no_wait_after=True)
            saw_position = [False] * n

            def tick(i: int, p: Any) -> None:
                if not saw_position[i] and p.get_by_text(re.compile(r"position \d+ of")).count():
                    saw_position[i] = True
                opener = p.locator('[data-testid="stMain"] a').filter(
                    has_text=re.compile(r"Open$"))
                if opener.count():
                    opener.first.click(no_wait_after=True)

            got, verdict = wait_for_charts(pages, t_clicks, Path(runs), timeout_s, on_tick=tick)
            for i, p in enumerate(pages):
                if i < 2 or verdict[i] != "ok":  # every session that did not finish, to look at
                    p.screenshot(path=str(log_dir / f"scene-b-session{i}.png"), full_page=True)
            _save_logs(pages, log_dir, "b")
            written = _runs_written(Path(runs))
            tb = server.traceback()
            for p in pages:
                p.context.close()
        finally:
            peak = sampler.stop()
            server.stop()
    log = (log_dir / f"server-{tag}.log").read_text()
    started = [float(x) for x in re.findall(r"started ([\d.]+) s after it was submitted", log)]
    trained = [float(x) for x in re.findall(r"job \w+ done after ([\d.]+) s", log)]
    waited = sum(x > 1.0 for x in started)  # jobs that had to wait for another's training
    ends = [t + g for t, g in zip(t_clicks, got) if g is not None]
    return {**_outcome(n, got, verdict, written, tb), "saw_position": saw_position,
            "waited": waited, "job_waits_s": started, "job_train_s": trained,
            "scene_wall_s": (max(ends) - t_clicks[0]) if len(ends) == n else None,
            "peak_rss_gib": peak / 2**30}


# ----------------------------------------------------------------------------- report
def _fmt(x: float | None, nd: int = 1) -> str:
    return "—" if x is None else f"{x:.{nd}f}"


def render(res: dict[str, Any]) -> str:
    a, b = res.get("a"), res.get("b")
    n = res["sessions"]
    lines = [
        "# A class on one server",
        "",
        f"Generated by `{res['command']}` on {res['when']} — {res['machine']}. One fresh "
        "`streamlit run app.py` server per scene (empty run store), one headless Chromium, one "
        f"browser context per session, N = {n}. Times are each session's click → its Scores "
        "page showing the score histogram and the ROC curve.",
        "",
        f"Machine load during the measurement: {res['load_note']}",
        "",
        "| scene | sessions | trainings run | click → charts min / median / p95 / max (s) | "
        "blank pages | not finished | peak RSS of the server tree | tracebacks |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in (("(a) same experiment (Quick start)", a),
                    ("(b) a different class each (Train)", b)):
        if not r:
            continue
        s = r["summary"]
        if r.get("from"):
            name += f" (from `{r['from']}`)"
        lines.append(
            f"| {name} | {r['sessions']} | {r['trainings']} | {_fmt(s['min'])} / "
            f"{_fmt(s['median'])} / {_fmt(s['p95'])} / {_fmt(s['max'])} | {r['blank_pages']} "
            f"| {r['not_finished']} | {r['peak_rss_gib']:.2f} GiB | "
            f"{'yes' if r['traceback'] else '0'} |")
    lines += ["", "## Targets (2 cores, N = 10)", ""]
    if a:
        ok = a["summary"]["max"] is not None and a["summary"]["max"] <= TARGET_SAME_S
        lines.append(f"- (a) every session's charts ≤ {TARGET_SAME_S:.0f} s after its click: "
                     f"**{'met' if ok and not a['not_finished'] else 'not met'}** (max "
                     f"{_fmt(a['summary']['max'])} s); one training: **"
                     f"{'met' if a['trainings'] == 1 else 'not met'}** ({a['trainings']}).")
        lines.append(f"- Memory with {a['sessions']} sessions parked on the finished run after "
                     f"visiting every page once: {a['rss_parked_all_pages_gib']:.2f} GiB "
                     f"(target ≤ {TARGET_RSS_GIB:.0f} GiB: **"
                     f"{'met' if a['rss_parked_all_pages_gib'] <= TARGET_RSS_GIB else 'not met'}"
                     f"**); peak during the whole scene {a['peak_rss_gib']:.2f} GiB. The idle "
                     f"server (training process started, no session) held "
                     f"{a['rss_idle_gib']:.2f} GiB, so a session parked on a finished run costs "
                     f"about {a['rss_per_session_mib']:.0f} MiB (the run's arrays and figures "
                     "are cached once per server and counted in that figure).")
        if a["slow_pages"]:
            lines.append(f"- Pages slower than 3 s in that walk: {a['slow_pages']}.")
    if b:
        one = res.get("one_quick_start_s")
        limit = None if one is None else 10 * one + TARGET_EXTRA_S
        last = b["summary"]["max"]
        ok = limit is not None and last is not None and last <= limit and not b["not_finished"]
        lines.append(f"- (b) every session finishes, the last ≤ 10 × one quick start + "
                     f"{TARGET_EXTRA_S:.0f} s = {_fmt(limit)} s (one quick start = "
                     f"{_fmt(one)} s, one session alone on a fresh server, measured just before): **"
                     f"{'met' if ok else 'not met'}** (last {_fmt(last)} s); sessions that "
                     f"saw their place in the queue: {sum(b['saw_position'])} of "
                     f"{b['sessions']} ({b.get('waited', '?')} of the jobs waited for another "
                     "one's training, by the server log).")
    for name, r in (("a", a), ("b", b)):
        if r:
            lines.append(f"- Blank pages in ({name}): **{r['blank_pages']}**; tracebacks in the "
                         f"server log: **{'yes' if r['traceback'] else 0}**.")
    variants = res.get("b_variants") or {}
    if variants:
        from ad_core.benchmarks.classroom_pool import render_variants

        lines += render_variants(res, variants)
    if b:
        lines += ["", "Scene (b)'s runs (one per class):", "",
                  "| run | normal | AUROC |", "|---|---|---|"]
        lines += [f"| {r['run_id']} | {'+'.join(r['normal'] or [])} | {_fmt(r['auroc'], 3)} |"
                  for r in b["runs"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--scenes", default="a,b", help="which scenes: a, b or a,b")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per scene")
    ap.add_argument("--out", type=Path, default=OUT / "classroom")
    ap.add_argument("--load-note", default="", help="what else ran on the machine")
    ap.add_argument("--keep-other-scenes", action="store_true",
                    help="keep the scenes not run now from the existing JSON (each keeps its "
                         "own date and command line)")
    ap.add_argument("--workers", type=int, default=None,
                    help="scene (b) with this many training workers (the server's "
                         "ANOMALY_LAB_TRAINING_WORKERS); saved as a row of its own")
    ap.add_argument("--engine", choices=("local", "ray"), default="local",
                    help="scene (b) with the app's jobs on Ray (ANOMALY_LAB_ENGINE=ray; a local "
                         "Ray started by the server unless --ray-address); a row of its own")
    ap.add_argument("--ray-address", default=None, help="with --engine ray: an existing cluster")
    args = ap.parse_args(argv)
    if args.workers is not None or args.engine != "local":
        from ad_core.benchmarks.classroom_pool import main_variant

        return main_variant(args)
    log_dir = Path(tempfile.mkdtemp(prefix="classroom-logs-"))
    res: dict[str, Any] = {
        "command": "python -m ad_core.benchmarks.classroom --sessions "
                   f"{args.sessions}" + ("" if args.scenes == "a,b" else f" --scenes {args.scenes}"),
        "when": time.strftime("%Y-%m-%d %H:%M"), "sessions": args.sessions,
        "machine": f"{os.cpu_count()} CPUs, {platform.platform()}",
        "load_note": args.load_note or f"load average at start {os.getloadavg()[0]:.2f}",
        "log_dir": str(log_dir)}
    with B.chromium() as browser:
        if "b" in args.scenes:  # the yardstick of scene (b): one session alone, fresh server
            one = scene_same(browser, 1, log_dir, args.timeout, tag="one")
            res["one_quick_start_s"] = one["click_to_charts_s"][0]
        if "a" in args.scenes:
            res["a"] = scene_same(browser, args.sessions, log_dir, args.timeout)
            print(json.dumps({k: v for k, v in res["a"].items() if k != "runs"}, default=str))
        if "b" in args.scenes:
            res["b"] = scene_different(browser, args.sessions, log_dir, args.timeout)
            print(json.dumps({k: v for k, v in res["b"].items() if k != "runs"}, default=str))
    res["load_after"] = os.getloadavg()[0]
    old_path = args.out.with_suffix(".json")
    if args.keep_other_scenes and old_path.exists():
        old = json.loads(old_path.read_text())
        for scene in ("a", "b"):
            if scene not in res and scene in old:
                res[scene] = {**old[scene], "from": f"{old['command']} on {old['when']}"}
                res.setdefault("one_quick_start_s", old.get("one_quick_start_s"))
    if old_path.exists():  # the rows of scene (b) on other pools are separate measurements
        res.setdefault("b_variants", json.loads(old_path.read_text()).get("b_variants", {}))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(res, indent=1, default=str))
    args.out.with_suffix(".md").write_text(render(res))
    print(render(res))
    print(f"logs and screenshots: {log_dir}")
    bad = any(r and (r["blank_pages"] or r["traceback"]) for r in (res.get("a"), res.get("b")))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
