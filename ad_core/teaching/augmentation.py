"""Augmentation alignment (augmentation study §4, Figure 3): relative AUROC of DAEs with a chosen
augmentation against the no-augmentation AE on the controlled testbed.

The study's grid (which runs: :func:`build_jobs`, :func:`expand`) and its statistics (relative
AUROC per task: :func:`summarise`) live here, below the benchmark that runs the grid at scale
(:mod:`ad_core.benchmarks.augmentation`), so the Teaching page's live run and the benchmark share
one definition; ``benchmarks`` may import ``teaching``, never the reverse (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ad_core.augment import CATALOGUE, info
from ad_core.metrics import wilcoxon_paired
from ad_core.tasks import TESTBED_GENERATORS

AUGMENTATION_RESULTS = "augmentation_testbed"
AUGMENTATION_PAPER = ("Paper (CIFAR-10C/SVHN-C, Figures 1 and 3): with CutOut anomalies the local "
                      "augmentations (CutOut, CutPaste, CutPaste-scar) raise AUROC above the plain "
                      "AE, misaligned ones change little or hurt; CutOut-c helps for small c and "
                      "starts to hurt at c ≥ 0.6 (c is the erased *area fraction*: the authors' code "
                      "runs RandomErasing(scale=(c, c), ratio=1); the CutOut generator erases an "
                      "area fraction drawn from U(0.02, 0.33)).")
#: The study's detector, its baseline augmentation (the plain AE) and the testbed's generators.
DETECTOR = "dae"
BASELINE = "none"
GENERATORS = TESTBED_GENERATORS
CUTOUT_C_DEFAULT = float(CATALOGUE["cutout-c"].defaults["c"])


# ------------------------------------------------------------------------------------------------
# The grid


def label_of(augmentation: str, c: float | None) -> str:
    """Display name of a run: the catalogue name, or ``cutout-c=0.3`` for a swept area c."""
    if augmentation == "cutout-c" and c is not None and abs(c - CUTOUT_C_DEFAULT) > 1e-9:
        return f"cutout-c={c:g}"
    return augmentation


def dae_params(augmentation: str, c: float | None = None, extra: dict[str, Any] | None = None
               ) -> dict[str, Any]:
    """The ``dae`` detector's parameters for one augmentation (``c`` for CutOut-c)."""
    params: dict[str, Any] = {"augmentation": augmentation, **(extra or {})}
    if c is not None:
        params["augmentation_params"] = {"c": float(c)}
    return params


def build_jobs(*, dataset: str, classes: Sequence[str], seeds: Sequence[int],
               augmentations: Sequence[str], wild: Sequence[str], sweep: Sequence[float],
               preset: str, extra: dict[str, Any] | None = None
               ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(row template, experiment spec) for every run of the study, baselines included."""
    out: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def add(study: str, task: str, aug: str, c: float | None) -> None:
        for cls in classes:
            for s in seeds:
                tmpl = {"study": study, "dataset": dataset, "detector": DETECTOR, "preset": preset,
                        "augmentation": aug, "label": label_of(aug, c), "c": c,
                        "normal_class": str(cls), "seed": int(s)}
                spec = {"dataset": dataset, "normal": [str(cls)], "detector": DETECTOR,
                        "preset": preset, "params": dae_params(aug, c, extra), "task": task,
                        "seed": int(s)}
                out.append((tmpl, spec))

    testbed = list(dict.fromkeys([BASELINE, *augmentations]))
    for aug in testbed:
        info(aug)
        add("testbed", "testbed", aug, CUTOUT_C_DEFAULT if aug == "cutout-c" else None)
    for c in sweep:
        if "cutout-c" in testbed and abs(c - CUTOUT_C_DEFAULT) < 1e-9:
            continue  # already run as the catalogue's cutout-c
        add("testbed", "testbed", "cutout-c", float(c))
    for aug in dict.fromkeys([BASELINE, *wild]) if wild else ():
        info(aug)
        add("wild", "one-vs-rest", aug, None)
    return out


def expand(tmpl: dict[str, Any], result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per anomaly kind (plus ``all`` = the run's overall AUROC) of a finished run."""
    base = {**tmpl, "fit_seconds": float(result["fit_seconds"]),
            "n_train": int(result["n_train"]), "n_test": int(result["n_test"])}
    rows = [{**base, "anomaly_kind": "all", "auroc": float(result["auroc"])}]
    for kind, auc in sorted(result.get("per_kind_auroc", {}).items()):
        rows.append({**base, "anomaly_kind": str(kind), "auroc": float(auc)})
    return rows


# ------------------------------------------------------------------------------------------------
# Statistics


def pair_key(r: dict[str, Any]) -> tuple:
    """What pairs a row with its baseline row: (dataset, normal class, seed, anomaly kind)."""
    return (r.get("dataset", ""), r["normal_class"], r["seed"], r["anomaly_kind"])


def study_relative_auroc(rows: Sequence[dict[str, Any]], study: str, kinds: Sequence[str] | None,
                         group: str) -> list[dict[str, Any]]:
    """Relative AUROC AUC_a / AUC_none of every label of ``study`` on the anomaly ``kinds``.

    Pairs each run with the baseline run of the same (normal class, seed, anomaly kind); ``kinds``
    None means every kind except ``all`` (the in-the-wild one-vs-one pairs). ``group`` names the
    result (``flip``, ``cutout``, ``invert``, ``all``, ``one-vs-one``).
    """
    sel = [r for r in rows if r["study"] == study
           and (r["anomaly_kind"] in kinds if kinds is not None else r["anomaly_kind"] != "all")]
    base = {pair_key(r): r["auroc"] for r in sel if r["label"] == BASELINE}
    out = []
    for label in dict.fromkeys(r["label"] for r in sel):
        pairs = [(r.get("dataset", ""), r["normal_class"], r["auroc"], base[pair_key(r)])
                 for r in sel if r["label"] == label and pair_key(r) in base]
        if not pairs:
            continue
        # one task per (dataset, normal class): average its seeds (and anomaly kinds) first
        tasks = sorted({(d, c) for d, c, _, _ in pairs})
        a = np.array([np.mean([x for d, c, x, _ in pairs if (d, c) == t]) for t in tasks])
        b = np.array([np.mean([y for d, c, _, y in pairs if (d, c) == t]) for t in tasks])
        aug = next(r["augmentation"] for r in sel if r["label"] == label)
        stats = wilcoxon_paired(a, b, alternative="greater")
        out.append({"study": study, "group": group, "label": label, "augmentation": aug,
                    "category": CATALOGUE[aug].category, "mean_auroc": float(a.mean()),
                    "mean_auroc_none": float(b.mean()), **stats})
    return out


def summarise(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every relative-AUROC summary of the study (testbed per gen and overall, in the wild)."""
    out: list[dict[str, Any]] = []
    for g in (*GENERATORS, "all"):
        out += study_relative_auroc(rows, "testbed", [g], g)
    out += study_relative_auroc(rows, "wild", None, "one-vs-one")
    out += study_relative_auroc(rows, "wild", ["all"], "one-vs-rest")
    return out


# ------------------------------------------------------------------------------------------------
# The Teaching page


def _cutout_c(label: str, augmentation: str, default: float) -> float | None:
    """Erased area fraction c of a CutOut-c run from its benchmark label (``cutout-c=0.3``)."""
    if augmentation != "cutout-c":
        return None
    return float(label.split("=", 1)[1]) if "=" in label else default


def relative_auroc(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The study's relative AUROC (AUC_aug / AUC_none; a task is one normal class, its seeds
    averaged first) on the controlled testbed, one record per (augmentation, anomaly generator),
    for the charts.

    ``results`` is the augmentation benchmark's ``{"meta", "rows"}``; its ``meta.summary`` is
    used when present, otherwise the rows are summarised with the benchmark's own statistics
    (:func:`summarise`). Records: ``augmentation`` (label),
    ``generator``, ``median`` (the pseudomedian), ``low``, ``high`` (its exact 95 % confidence
    interval, or the widest attainable one for n ≤ 5), ``pvalue`` (one-sided Wilcoxon, aug
    better), ``n``, ``c`` (CutOut-c erased area fraction or None).
    """
    summary = (results.get("meta") or {}).get("summary")
    if not summary or "pseudomedian" not in summary[0]:  # absent, or from the old statistics
        summary = summarise(results.get("rows") or [])
    out = []
    for r in summary:
        if r.get("study") != "testbed" or r.get("group") not in TESTBED_GENERATORS:
            continue
        if r.get("label") == BASELINE:
            continue
        out.append({"augmentation": r["label"], "generator": r["group"],
                    "median": float(r["pseudomedian"]), "low": float(r["ci_low"]),
                    "high": float(r["ci_high"]), "pvalue": float(r["pvalue"]), "n": int(r["n"]),
                    "category": r.get("category", ""),
                    "c": _cutout_c(r["label"], r["augmentation"], CUTOUT_C_DEFAULT)})
    return out


def augmentation_live(augmentations: Sequence[str], widths: Sequence[float] = (),
                      normal: str = "0", seed: int = 0, dataset: str = "mnist5k",
                      max_train: int | None = 300, preset: str = "quick",
                      extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A small live version of the augmentation benchmark: the plain AE and one DAE per chosen
    augmentation (and per CutOut-c erased area fraction c) on the controlled testbed of one normal class.

    Each model is trained by :func:`ad_core.experiment.run_experiment` (detector ``dae``, task
    ``testbed``, not saved); rows and statistics are the benchmark's (:func:`build_jobs`,
    :func:`expand`, :func:`summarise`), so :func:`relative_auroc` reads the result like the cached
    benchmark.
    """
    from ad_core.experiment import ExperimentSpec, run_experiment

    jobs = build_jobs(dataset=dataset, classes=[normal], seeds=[seed],
                        augmentations=list(augmentations), wild=(), sweep=list(widths),
                        preset=preset, extra=extra)
    rows: list[dict[str, Any]] = []
    t0 = time.time()
    for tmpl, spec in jobs:
        res = run_experiment(ExperimentSpec(**spec, task_options={"max_train": max_train},
                                            explain_n=0, embed_n=0), save=False, artifacts=False)
        rows += expand(tmpl, {**res.metrics, "per_kind_auroc":
                                res.metrics.get("per_kind_auroc", {})})
    meta = {"command": "live (teaching page)", "date": time.strftime("%Y-%m-%d %H:%M"),
            "wall_seconds": time.time() - t0, "max_train": max_train, "seeds": [seed],
            "classes": [normal], "summary": summarise(rows)}
    return {"meta": meta, "rows": rows}
