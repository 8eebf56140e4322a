"""Generated results the app reads from ``docs/results/``: benchmark tables with per-task rows,
sweeps with their status, and the fidelity report (the one source of every paper claim the app
states).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ad_core.bench import RESULTS_DIR  # where the generated results live (docs/results)


@dataclass(frozen=True)
class ResultFile:
    """A benchmark's JSON under ``docs/results/`` with per-task rows."""

    name: str
    meta: dict[str, Any]
    rows: list[dict[str, Any]]


def benchmark_results(directory: Path | None = None) -> list[ResultFile]:
    """Benchmark JSON files whose rows carry dataset/normal/detector/seed/auroc."""
    d = Path(directory) if directory else RESULTS_DIR
    out = []
    for p in sorted(d.glob("*.json")) if d.exists() else []:
        try:
            obj = json.loads(p.read_text())
        except (OSError, ValueError):
            continue
        rows = obj.get("rows") if isinstance(obj, dict) else None
        need = {"dataset", "normal", "detector", "seed", "auroc"}
        if isinstance(rows, list) and rows and all(isinstance(r, dict) and need <= set(r)
                                                   for r in rows):
            out.append(ResultFile(p.stem, obj.get("meta") or {}, rows))
    return out


@dataclass(frozen=True)
class Sweep:
    """A benchmark sweep's results JSON: its rows so far and ``status`` = ``meta["sweep"]`` as the
    sweep runner writes it (engine, cells, done, failed, complete; ``{}`` for results written
    before the runner kept a status)."""

    name: str
    meta: dict[str, Any]
    rows: list[dict[str, Any]]
    status: dict[str, Any]

    @property
    def label(self) -> str:
        """``digits one-vs-rest: iforest, ae (quick preset) — 40/40 cells, ray``."""
        title = self.meta.get("title", self.name)
        st = self.status
        if not st:
            return title
        cells, done, failed = st.get("cells", 0), st.get("done", 0), len(st.get("failed") or [])
        state = (f"{cells} cells" if st.get("complete") else f"{done}/{cells} cells"
                 + (f", {failed} failed" if failed else ", running or interrupted"))
        return f"{title} — {state}, {st.get('engine', 'local')}"


def list_sweeps(directory: Path | None = None) -> list[Sweep]:
    """Sweeps under ``docs/results/`` (or ``directory``), newest first: every benchmark JSON with
    per-task rows, and sweeps whose cells have all failed or not finished yet."""
    out = {f.name: Sweep(f.name, f.meta, f.rows, dict(f.meta.get("sweep") or {}))
           for f in benchmark_results(directory)}
    d = Path(directory) if directory else RESULTS_DIR
    for p in sorted(d.glob("*.json")) if d.exists() else []:
        if p.stem in out:
            continue
        try:
            obj = json.loads(p.read_text())
        except (OSError, ValueError):
            continue
        meta = obj.get("meta") if isinstance(obj, dict) else None
        if isinstance(meta, dict) and isinstance(meta.get("sweep"), dict) and not obj.get("rows"):
            out[p.stem] = Sweep(p.stem, meta, [], dict(meta["sweep"]))
    return sorted(out.values(), key=lambda s: str(s.meta.get("date", "")), reverse=True)


FIDELITY_REPORT = "fidelity"


def fidelity_report(directory: str | Path | None = None) -> dict[str, Any] | None:
    """The fidelity report's JSON (``{"meta", "rows"}``, one row per claim) written by
    ``python -m ad_core.benchmarks.fidelity``; None when it is absent or unreadable. The pages
    show the report's verdicts and figures from here, never from a second cache."""
    p = (Path(directory) if directory else RESULTS_DIR) / f"{FIDELITY_REPORT}.json"
    try:
        data = json.loads(p.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("rows"), list) else None


def fidelity_claims_shown_in(place: str, report: dict[str, Any] | None = None
                             ) -> list[dict[str, Any]]:
    """The report's claims the app states at ``place`` (e.g. ``"Teaching · GeoTrans"``)."""
    report = fidelity_report() if report is None else report
    rows = (report or {}).get("rows") or []
    return [r for r in rows if isinstance(r, dict) and place in (r.get("shown_in") or [])]


def fidelity_augmentation_summary(report: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The report's relative-AUROC summary of the augmentation study (every augmentation × gen,
    seeds averaged per task) in the shape :func:`relative_auroc` reads; None when absent."""
    report = fidelity_report() if report is None else report
    summary = ((report or {}).get("meta") or {}).get("augmentation_summary")
    return {"meta": {"summary": summary}, "rows": []} if summary else None
