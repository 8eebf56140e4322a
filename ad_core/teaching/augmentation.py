"""Augmentation alignment (augmentation study §4, Figure 3): relative AUROC of DAEs with a chosen
augmentation against the no-augmentation AE on the controlled testbed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

AUGMENTATION_RESULTS = "augmentation_testbed"
AUGMENTATION_PAPER = ("Paper (CIFAR-10C/SVHN-C, Figures 1 and 3): with CutOut anomalies the local "
                      "augmentations (CutOut, CutPaste, CutPaste-scar) raise AUROC above the plain "
                      "AE, misaligned ones change little or hurt; CutOut-c helps for small c and "
                      "starts to hurt at c ≥ 0.6 (c is the erased *area fraction*: the authors' code "
                      "runs RandomErasing(scale=(c, c), ratio=1); the CutOut generator erases an "
                      "area fraction drawn from U(0.02, 0.33)).")
TESTBED_GENERATORS = ("flip", "cutout", "invert")


def _cutout_c(label: str, augmentation: str, default: float) -> float | None:
    """Erased area fraction c of a CutOut-c run from its benchmark label (``cutout-c=0.3``)."""
    if augmentation != "cutout-c":
        return None
    return float(label.split("=", 1)[1]) if "=" in label else default


def relative_auroc(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The study's relative AUROC (AUC_aug / AUC_none, paired per normal class and seed) on the
    controlled testbed, one record per (augmentation, anomaly generator), for the charts.

    ``results`` is the augmentation benchmark's ``{"meta", "rows"}``; its ``meta.summary`` is
    used when present, otherwise the rows are summarised with the benchmark's own statistics
    (:func:`ad_core.benchmarks.augmentation.summarise`). Records: ``augmentation`` (label),
    ``generator``, ``median`` (the pseudomedian), ``low``, ``high`` (its exact 95 % confidence
    interval, or the widest attainable one for n ≤ 5), ``pvalue`` (one-sided Wilcoxon, aug
    better), ``n``, ``c`` (CutOut-c erased area fraction or None).
    """
    from ad_core.benchmarks import augmentation as B

    summary = (results.get("meta") or {}).get("summary")
    if not summary or "pseudomedian" not in summary[0]:  # absent, or from the old statistics
        summary = B.summarise(results.get("rows") or [])
    out = []
    for r in summary:
        if r.get("study") != "testbed" or r.get("group") not in TESTBED_GENERATORS:
            continue
        if r.get("label") == B.BASELINE:
            continue
        out.append({"augmentation": r["label"], "generator": r["group"],
                    "median": float(r["pseudomedian"]), "low": float(r["ci_low"]),
                    "high": float(r["ci_high"]), "pvalue": float(r["pvalue"]), "n": int(r["n"]),
                    "category": r.get("category", ""),
                    "c": _cutout_c(r["label"], r["augmentation"], B.CUTOUT_C_DEFAULT)})
    return out


def augmentation_live(augmentations: Sequence[str], widths: Sequence[float] = (),
                      normal: str = "0", seed: int = 0, dataset: str = "mnist5k",
                      max_train: int | None = 300, preset: str = "quick",
                      extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A small live version of the augmentation benchmark: the plain AE and one DAE per chosen
    augmentation (and per CutOut-c erased area fraction c) on the controlled testbed of one normal class.

    Each model is trained by :func:`ad_core.experiment.run_experiment` (detector ``dae``, task
    ``testbed``, not saved); rows and statistics follow :mod:`ad_core.benchmarks.augmentation`,
    so :func:`relative_auroc` reads the result like the cached benchmark.
    """
    from ad_core.benchmarks import augmentation as B
    from ad_core.experiment import ExperimentSpec, run_experiment

    jobs = B.build_jobs(dataset=dataset, classes=[normal], seeds=[seed],
                        augmentations=list(augmentations), wild=(), sweep=list(widths),
                        preset=preset, extra=extra)
    rows: list[dict[str, Any]] = []
    t0 = time.time()
    for tmpl, spec in jobs:
        res = run_experiment(ExperimentSpec(**spec, task_options={"max_train": max_train},
                                            explain_n=0, embed_n=0), save=False, artifacts=False)
        rows += B.expand(tmpl, {**res.metrics, "per_kind_auroc":
                                res.metrics.get("per_kind_auroc", {})})
    meta = {"command": "live (teaching page)", "date": time.strftime("%Y-%m-%d %H:%M"),
            "wall_seconds": time.time() - t0, "max_train": max_train, "seeds": [seed],
            "classes": [normal], "summary": B.summarise(rows)}
    return {"meta": meta, "rows": rows}
