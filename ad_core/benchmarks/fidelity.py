"""Fidelity report: every claim of the five papers, rerun by one command, with an honest verdict.

    python -m ad_core.benchmarks.fidelity [--seeds N | --seeds 0,1,2] [--quick]

writes ``docs/results/fidelity.md`` and ``docs/results/fidelity.json`` (``{"meta": …, "rows":
[…]}``), one row per claim with the keys ``paper``, ``claim``, ``paper_figure``, ``ours``,
``ours_mean``, ``ours_std``, ``n_seeds``, ``setting``, ``verdict``, ``reason`` (plus the two
compared figures, ``paper_a``/``paper_b`` and ``ours_a``/``ours_b``, where a claim compares two).

Every claim here is a comparison "B beats A" (B − A > 0). ``ours_mean`` / ``ours_std`` are the mean
and standard deviation over seeds of our gap B − A, in the paper's unit (AUROC % for Toll and
GeoTrans' grid, AUROC for LIS-AE and §6, the loss for NeuTraL's edge cases). Verdicts follow
METHODS.md §7: **reproduced** when our mean gap lies on the paper's side (> 0) and is not far
smaller than the paper's; **direction only** when the sign agrees but the gap is below
:data:`FAR_SMALLER` of the paper's; **not reproduced** otherwise — each with its reason.

Paper numbers come from :mod:`ad_core.reference`. Everything runs on MNIST-5k (500 images per
class, 20 % test) or the embedded tables, so absolute numbers differ from the papers'; the
claims are about directions and gaps. ``--quick`` is a smoke run (a few minutes on 2 cores):
one seed, fewer classes and shorter training, and says so in each row's setting.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ad_core import reference as R
from ad_core.sweep import add_engine_args, configure, options_from_args

FAR_SMALLER = 0.25  # a gap below a quarter of the paper's is "direction only"
DIGITS = tuple(str(i) for i in range(10))
PAIRS = (("0", "1"), ("2", "3"), ("4", "5"), ("6", "7"), ("8", "9"))  # LIS-AE 2-class MNIST
ROW_KEYS = ("paper", "claim", "paper_figure", "ours", "ours_mean", "ours_std", "n_seeds",
            "setting", "verdict", "reason")


# ----------------------------------------------------------------------------- verdicts
def verdict(gaps: Sequence[float], paper_gap: float | None) -> tuple[str, str]:
    """METHODS.md §7 verdict of a claim "B beats A" from our per-seed gaps B − A and the paper's."""
    g = np.asarray(gaps, dtype=float)
    if g.size == 0 or not np.isfinite(g).all():
        return "not reproduced", "no measurement (a run failed)"
    m, s = float(g.mean()), float(g.std())
    noise = (f"; the seed spread (± {s:.3g}) is larger than the gap, so the sign is not reliable"
             if g.size > 1 and s > abs(m) else "")
    if m <= 0:
        return "not reproduced", f"our gap {m:+.3g} is not on the paper's side{noise}"
    if paper_gap is not None and paper_gap > 0 and m < FAR_SMALLER * paper_gap:
        return "direction only", (f"our gap {m:+.3g} has the paper's sign but is far smaller than "
                                  f"the paper's {paper_gap:+.3g}{noise}")
    ref = f" (paper {paper_gap:+.3g})" if paper_gap is not None else ""
    return "reproduced", f"our gap {m:+.3g}{ref} is on the paper's side{noise}"


def _pm(values: Sequence[float], digits: int = 3) -> str:
    a = np.asarray(values, dtype=float)
    if a.size == 0:
        return "n/a"
    return f"{a.mean():.{digits}f} ± {a.std():.{digits}f}" if a.size > 1 else f"{a.mean():.{digits}f}"


def comparison_row(*, paper: str, claim: str, paper_a: float, paper_b: float, label_a: str,
                   label_b: str, ours_a: Sequence[float], ours_b: Sequence[float], setting: str,
                   scale: float = 1.0, digits: int = 3, why: str = "") -> dict[str, Any]:
    """A claim "B beats A": per-seed figures of both sides (already averaged over classes),
    ``scale`` maps ours into the paper's unit (100 for AUROC %)."""
    a = np.asarray(ours_a, dtype=float) * scale
    b = np.asarray(ours_b, dtype=float) * scale
    n = min(len(a), len(b))
    gaps = (b[:n] - a[:n]).tolist()
    v, reason = verdict(gaps, paper_b - paper_a)
    if why and v != "reproduced":
        reason += f". {why}"
    return {"paper": paper, "claim": claim,
            "paper_figure": f"{label_a} {paper_a:g} → {label_b} {paper_b:g}",
            "ours": f"{label_a} {_pm(a, digits)} → {label_b} {_pm(b, digits)}",
            "ours_mean": float(np.mean(gaps)) if gaps else math.nan,
            "ours_std": float(np.std(gaps)) if gaps else math.nan, "n_seeds": n,
            "setting": setting, "verdict": v, "reason": reason, "paper_a": paper_a,
            "paper_b": paper_b, "ours_a": float(a.mean()) if n else math.nan,
            "ours_b": float(b.mean()) if n else math.nan}


# ----------------------------------------------------------------------------- workers
def _fit(job: dict[str, Any]) -> dict[str, Any]:
    """One sweep cell: AUROC (and LIS-AE's phase-1 AUROC on the same test)."""
    kind = job.pop("kind", "experiment")
    if kind == "intuition":
        from ad_core.teaching.geotrans import intuition_experiment

        r = intuition_experiment(job["normal"], job["anomaly"], job["transformations"],
                                 job["seed"], preset=job.get("preset", "quick"),
                                 **job.get("params", {}))
        return {**job, "auroc": float(r["auroc"]), "seconds": float(r["seconds"]),
                "recognition": r["recognition"], "recognition_anomaly": r["recognition_anomaly"]}
    from ad_core import metrics as M
    from ad_core.experiment import ExperimentSpec, run_experiment

    tag = job.pop("tag", "")
    spec = ExperimentSpec(**job, explain_n=0, embed_n=0)
    t0 = time.time()
    res = run_experiment(spec, save=False, artifacts=False)
    out = {"tag": tag, "detector": spec.detector, "normal": "+".join(res.task.normal),
           "seed": spec.seed, "params": spec.params, "auroc": float(res.metrics["auroc"]),
           "seconds": time.time() - t0, "n_test": int(len(res.task.test_y)),
           "negatives_source": res.task.negatives_source
           or getattr(res.detector, "negatives_source_", None)}
    if spec.detector == "lisae":
        out["auroc_phase1"] = float(M.auroc(res.task.test_y,
                                            res.detector.phase1_scores(res.task.test_x)))
    return out


def run_parallel(jobs: list[dict[str, Any]], workers: int, name: str | None = None
                 ) -> list[dict[str, Any]]:
    """Run jobs (experiment specs as dicts, or §6 ``kind="intuition"`` jobs) as one sweep
    (:mod:`ad_core.sweep`: engine from the command line); failed cells are reported and left
    out. ``name`` makes it resumable."""
    from ad_core.bench import run_jobs

    return [r for r in run_jobs(jobs, workers, fn=_fit, name=name) if r is not None] if jobs else []


def _per_seed(rows: list[dict[str, Any]], key: str = "auroc", **match: Any) -> list[float]:
    """Mean over classes of ``key`` for each seed (rows filtered by ``match``)."""
    sel = [r for r in rows if all(r.get(k) == v for k, v in match.items())]
    seeds = sorted({r["seed"] for r in sel})
    return [float(np.mean([r[key] for r in sel if r["seed"] == s])) for s in seeds]


# ----------------------------------------------------------------------------- claim groups
def toll_claims(seeds: list[int], quick: bool, workers: int) -> list[dict[str, Any]]:
    """Toll on MNIST-5k digit 8 (quick preset, β = 1000): β > 0 vs β = 0, and L1 ≈ L2 > L∞."""
    extra = {"iterations": 200} if quick else {}
    variants = {"beta0": {"beta": 0.0}, "p2": {}, "p1": {"p": "1"}, "pinf": {"p": "inf"}}
    jobs = [{"tag": t, "dataset": "mnist5k", "normal": ["8"], "detector": "toll",
             "preset": "quick", "params": {**extra, **p}, "seed": s}
            for t, p in variants.items() for s in seeds]
    rows = run_parallel(jobs, workers, "fidelity_toll")
    it = extra.get("iterations", 400)
    cost = toll_paper_step_seconds(steps=1 if quick else 2)
    setting = (f"mnist5k normal 8, Toll quick preset (small conv AE + BN, dataset-standardised "
               f"pixels, z 128, β 1000, {it} batches of 64 without repeats, val-loss checkpoint), "
               f"seeds {seeds}; the paper preset (appendix-B net, 2000 full batches of the "
               f"~{TOLL_TRAIN} training 8s) is not run here: one of its training steps measured "
               f"{cost:.1f} s on {torch_threads()} CPU thread(s), so one fit ≈ "
               f"{2000 * cost / 3600:.1f} h and the four variants × {len(seeds)} seed(s) ≈ "
               f"{8000 * cost * len(seeds) / 3600:.0f} h (a GPU runs it in minutes)")
    out = [comparison_row(
        paper=R.TOLL, claim="β > 0 beats β = 0 (plain AE) on digit 8",
        paper_a=R.FIDELITY["toll_digit8"]["beta0"], paper_b=R.FIDELITY["toll_digit8"]["beta1000"],
        label_a="β=0", label_b="β=1000", ours_a=_per_seed(rows, tag="beta0"),
        ours_b=_per_seed(rows, tag="p2"), setting=setting, scale=100, digits=1)]
    l1, l2, linf = (_per_seed(rows, tag=t) for t in ("p1", "p2", "pinf"))
    pn = R.FIDELITY["toll_norms"]
    row = comparison_row(
        paper=R.TOLL, claim="L1 ≈ L2 > L∞ (latent norm)", paper_a=pn["inf"],
        paper_b=min(pn["1"], pn["2"]), label_a="L∞", label_b="min(L1, L2)", ours_a=linf,
        ours_b=np.minimum(l1, l2).tolist(), setting=setting + " (paper: average over classes)",
        scale=100, digits=1)
    close = abs(np.mean(l1) - np.mean(l2)) * 100
    row["ours"] += f"; L1 {_pm(np.asarray(l1) * 100, 1)}, L2 {_pm(np.asarray(l2) * 100, 1)}"
    row["paper_figure"] = f"L1 {pn['1']:g}, L2 {pn['2']:g} > L∞ {pn['inf']:g}"
    row["reason"] += f"; |L1 − L2| = {close:.1f} points"
    if row["verdict"] == "reproduced" and close > max(1.0, abs(row["ours_mean"])):
        row["verdict"] = "direction only"
        row["reason"] += " — L1 and L2 are not close, so '≈' does not hold"
    out.append(row)
    return out


TOLL_TRAIN = 360  # mnist5k: training images of one normal class (500 − 20 % test − 10 % val)


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def toll_paper_step_seconds(steps: int = 2) -> float:
    """Median seconds of one training step of Toll's paper preset on MNIST-5k here: the
    appendix-B.1 network, one full batch of the ~360 training 8s (batch 1000 > the training
    set, so a batch is all of it, without repeats), reconstruction + β‖z‖₂ loss, Adam 1e-4."""
    import torch

    from ad_core.nets.conv_ae import toll_mnist_ae
    from ad_core.nets.terms import targeted_collapse

    torch.manual_seed(0)
    net = toll_mnist_ae((1, 28, 28), 128)
    opt = torch.optim.Adam(net.parameters(), 1e-4)
    x = torch.randn(TOLL_TRAIN, 1, 28, 28)
    times = []
    for i in range(steps + 1):  # the first step pays one-time allocation costs
        t0 = time.perf_counter()
        x_hat, z = net(x)
        rec, pen = targeted_collapse(x_hat, x, z, 1000.0, 2.0)
        loss = (rec + pen).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i:
            times.append(time.perf_counter() - t0)
    return float(np.median(times))


def lisae_claims(seeds: list[int], quick: bool, workers: int) -> list[dict[str, Any]]:
    """LIS-AE on MNIST-5k: Table 3 (other-half negatives vs none), Table 1 1-class (stroke/glyph
    negatives vs the plain AE), 2-class MNIST."""
    classes = ("0", "3", "8") if quick else DIGITS
    pairs = PAIRS[:2] if quick else PAIRS
    extra: dict[str, Any] = {"epochs": 15, "phase2_epochs": 10} if quick else {}
    jobs: list[dict[str, Any]] = []
    for s in seeds:
        for c in classes:
            jobs.append({"tag": "t3", "dataset": "mnist5k", "normal": [c], "detector": "lisae",
                         "preset": "quick", "params": dict(extra), "task": "negatives",
                         "task_options": {"negatives": "other-half"}, "seed": s})
            for d in ("lisae", "ae"):
                jobs.append({"tag": "t1", "dataset": "mnist5k", "normal": [c], "detector": d,
                             "preset": "quick", "params": dict(extra) if d == "lisae" else {},
                             "seed": s})
        for a, b in pairs:
            for d in ("lisae", "ae"):
                jobs.append({"tag": "2c", "dataset": "mnist5k", "normal": [a, b], "detector": d,
                             "preset": "quick", "params": dict(extra) if d == "lisae" else {},
                             "seed": s})
    rows = run_parallel(jobs, workers, "fidelity_lisae")
    ref = R.FIDELITY["lisae"]
    short = " (shortened: 15 + 10 epochs)" if quick else ""
    t3 = [r for r in rows if r["tag"] == "t3"]
    out = [comparison_row(
        paper=R.LISAE, claim="Table 3 MNIST: negatives from the other half beat no negatives",
        paper_a=ref["table3_none"], paper_b=ref["table3_mnist"], label_a="none",
        label_b="MNIST negatives", ours_a=_per_seed(t3, "auroc_phase1"), ours_b=_per_seed(t3),
        setting=(f"mnist5k, normal c ∈ {{{', '.join(classes)}}}, negatives = the five classes of "
                 f"the other half, anomalies = the remaining four; LIS-AE quick preset{short}; "
                 f"'none' = the same model before latent shaping (phase 1, which never sees "
                 f"the negatives: LinSep is off), seeds {seeds}"))]
    t1 = [r for r in rows if r["tag"] == "t1"]
    src = next((r["negatives_source"] for r in t1 if r["detector"] == "lisae"), "")
    out.append(comparison_row(
        paper=R.LISAE, claim="Table 1, 1-class MNIST: LIS-AE beats the AE",
        paper_a=ref["table1_ae"], paper_b=ref["table1_lisae"], label_a="AE", label_b="LIS-AE",
        ours_a=_per_seed(t1, detector="ae"), ours_b=_per_seed(t1, detector="lisae"),
        setting=(f"mnist5k one-vs-rest, normal c ∈ {{{', '.join(classes)}}}; LIS-AE quick "
                 f"preset{short} with the default negatives: {src}; AE = `ae` quick preset "
                 f"(100 epochs); seeds {seeds}")))
    p1 = _per_seed(t1, "auroc_phase1", detector="lisae")
    out[-1]["reason"] += f"; LIS-AE before latent shaping (phase 1): {_pm(p1)}"
    c2 = [r for r in rows if r["tag"] == "2c"]
    out.append(comparison_row(
        paper=R.LISAE, claim="2-class MNIST: LIS-AE beats the AE",
        paper_a=ref["two_class_ae"], paper_b=ref["two_class_lisae"], label_a="AE",
        label_b="LIS-AE", ours_a=_per_seed(c2, detector="ae"),
        ours_b=_per_seed(c2, detector="lisae"),
        setting=(f"mnist5k, normal pairs {', '.join('+'.join(p) for p in pairs)}, the rest "
                 f"anomalies; stroke/glyph negatives; LIS-AE quick{short}, AE quick; "
                 f"seeds {seeds}")))
    return out


def geotrans_claims(seeds: list[int], quick: bool, workers: int) -> list[dict[str, Any]]:
    """GeoTrans: 72 transformations beat IsolationForest on average over MNIST-5k classes; §6."""
    classes = ("0", "5", "8") if quick else DIGITS
    jobs: list[dict[str, Any]] = []
    for s in seeds:
        for c in classes:
            jobs.append({"tag": "g72", "dataset": "mnist5k", "normal": [c],
                         "detector": "geotrans", "preset": "quick",
                         "params": {"transformations": "72", "epochs": 0}, "seed": s})
            jobs.append({"tag": "g72", "dataset": "mnist5k", "normal": [c], "detector": "iforest",
                         "preset": "quick", "params": {}, "seed": s})
        for n, a, t in R.GEOTRANS_INTUITION_EXPERIMENTS:
            jobs.append({"kind": "intuition", "normal": n, "anomaly": a, "transformations": t,
                         "seed": s, "preset": "quick",
                         "params": {"epochs": 20} if quick else {}})
    rows = run_parallel(jobs, workers, "fidelity_geotrans")
    g = [r for r in rows if r.get("tag") == "g72"]
    out = [comparison_row(
        paper=R.GEOTRANS, claim="72 transformations beat IsolationForest (average over classes)",
        paper_a=R.FIDELITY["geotrans"]["raw_ocsvm_fmnist"],
        paper_b=R.FIDELITY["geotrans"]["geotrans_fmnist"], label_a="baseline",
        label_b="GeoTrans", ours_a=_per_seed(g, detector="iforest"),
        ours_b=_per_seed(g, detector="geotrans"), scale=100, digits=1,
        setting=(f"mnist5k one-vs-rest, classes {{{', '.join(classes)}}}; GeoTrans with all 72 "
                 f"transformations and the paper's ⌈200/72⌉ = 3 epochs but the quick small CNN "
                 f"(WRN-10-4 costs tens of minutes per class on 2 CPU cores: see geotrans.md); "
                 f"IsolationForest on pixels; seeds {seeds}. Paper figures: Fashion-MNIST, "
                 f"GeoTrans vs RAW-OC-SVM (no MNIST table in the paper)"
                 + paper_preset_evidence("grid")))]
    intu = [r for r in rows if r.get("kind") == "intuition" or "anomaly" in r]
    ep = "20 epochs (shortened)" if quick else "the paper's ⌈200/2⌉ = 100 epochs"

    def au(n: str, a: str, t: str) -> list[float]:
        return [r["auroc"] for r in sorted(intu, key=lambda r: r["seed"])
                if (r["normal"], r["anomaly"], r["transformations"]) == (n, a, t)]

    def recog(n: str, a: str, t: str, key: str = "recognition") -> str:
        v = [r[key] for r in intu if key in r
             and (r["normal"], r["anomaly"], r["transformations"]) == (n, a, t)]
        return f"{100 * np.mean(v):.0f} %" if v else "n/a"

    e_flip83, e_flip38, e_shift83 = R.GEOTRANS_INTUITION_EXPERIMENTS
    p = R.FIDELITY["geotrans_intuition"]
    setting = (f"§6 on mnist5k: train on one digit's ~360 images with two transformations, test "
               f"on its test images vs one anomaly digit; quick CNN, {ep}; tx+7 = the authors' "
               f"Keras shift of 7 px along the rows; seeds {seeds}"
               + paper_preset_evidence("intuition"))
    out.append(comparison_row(
        paper=R.GEOTRANS, claim="§6: with {identity, flip}, 8-vs-3 fails and 3-vs-8 works",
        paper_a=p["8v3_flip"], paper_b=p["3v8_flip"], label_a="8 vs 3", label_b="3 vs 8",
        ours_a=au(*e_flip83), ours_b=au(*e_flip38), setting=setting))
    out.append(comparison_row(
        paper=R.GEOTRANS, claim="§6: translation fixes 8-vs-3 ({identity, translate 7 px} beats "
                                "{identity, flip})",
        paper_a=p["8v3_flip"], paper_b=p["8v3_translate"], label_a="flip", label_b="translate",
        ours_a=au(*e_flip83), ours_b=au(*e_shift83), setting=setting,
        why=(f"The paper's argument needs the flip to be unrecognisable on 8s (a symmetric "
             f"digit). Measured on held-out 8s, our classifier names the transformation of "
             f"{recog(*e_flip83)} of the views with {{identity, flip}} (3s: "
             f"{recog(*e_flip83, key='recognition_anomaly')}) and {recog(*e_shift83)} with "
             f"{{identity, tx+7}}: MNIST 8s are slanted, so their flip is learnable, the "
             f"flip score already separates 8 from 3 (our flip AUROC is above the paper's "
             f"0.646) and the translation has less left to fix")))
    for r, e in zip(out[1:], (e_flip83, e_shift83)):
        r["reason"] += (f"; transformation recognition on held-out normals: {e[2]} "
                        f"{recog(*e)}")
    return out


def paper_preset_evidence(part: str, path: Path | None = None) -> str:
    """What the GeoTrans paper-preset runs (``python -m ad_core.benchmarks.geotrans
    --paper-classes … --paper-intuition … --name geotrans_paper``) measured, for a row's setting;
    '' when none ran. ``part``: ``grid`` (WRN-10-4, 72 transformations, 3 epochs, against the
    same run's IsolationForest) or ``intuition`` (§6 with WRN-10-4, 100 epochs)."""
    import json

    from ad_core.bench import RESULTS_DIR

    path = path or RESULTS_DIR / "geotrans_paper.json"
    try:
        rows = json.loads(path.read_text())["rows"]
    except (OSError, ValueError, KeyError):
        return ""
    seeds = sorted({r.get("seed", 0) for r in rows if str(r.get("part", "")).startswith("paper_")})
    src = f" ({path.name}, seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))})"
    if part == "grid":
        got = [r for r in rows if r.get("part") == "paper_grid"]
        iso = {r["normal"]: r["auroc"] for r in rows
               if r.get("part") == "grid" and r.get("detector") == "iforest"}
        if not got:
            return ""
        figs = "; ".join(f"class {r['normal']}: {100 * r['auroc']:.1f} vs IsolationForest "
                         + (f"{100 * iso[r['normal']]:.1f}" if r["normal"] in iso else "n/a")
                         for r in got)
        return (f". Paper preset (WRN-10-4, 72 transformations, 3 epochs) run here on "
                f"{len(got)} of 10 classes{src}: {figs}")
    got = [r for r in rows if r.get("part") == "paper_intuition"]
    if not got:
        return ""
    figs = "; ".join(
        f"{r['normal']} vs {r['anomaly']} {{{', '.join(r['transformations'])}}}: AUROC "
        f"{r['auroc']:.3f} (paper {r['paper_auroc']:.3f})"
        + (f", recognition on held-out normals {100 * r['recognition']:.0f} %"
           if "recognition" in r else "") for r in got)
    return f". With the paper's WRN-10-4 and 100 epochs{src}: {figs}"


def neutral_claims(seeds: list[int], quick: bool, workers: int) -> list[dict[str, Any]]:
    """NeuTraL AD: the appendix's DCL edge cases; tabular NeuTraL vs IsolationForest."""
    from ad_core.teaching import dcl_edge_cases

    e = dcl_edge_cases(1.0, 2)
    ref = R.FIDELITY["neutral_appendix"]
    out = [comparison_row(
        paper=R.NEUTRAL, claim="Appendix A: at K = 2, τ = 1 identity transformations (K log K) "
                               "are not DCL's minimum: the counterexample is lower",
        paper_a=ref["counterexample"], paper_b=ref["identity"], label_a="counterexample",
        label_b="identity", ours_a=[e["counterexample"]], ours_b=[e["identity"]],
        setting="exact computation of the deterministic contrastive loss (unscaled) on the "
                "appendix's embeddings; no randomness")]
    jobs = [{"tag": "bc", "dataset": "breast_cancer", "normal": ["benign"], "detector": d,
             "preset": "quick", "params": {}, "seed": s} for d in ("neutral", "iforest")
            for s in seeds]
    rows = run_parallel(jobs, workers, "fidelity_neutral")
    nt = _per_seed(rows, detector="neutral")
    why = magnitude_diagnostic(seeds, float(np.mean(nt)) if nt else math.nan)
    out.append(comparison_row(
        paper=R.NEUTRAL, claim="Tabular NeuTraL AD beats IsolationForest (breast cancer)",
        paper_a=R.FIDELITY["neutral_tabular"]["iforest_arrhythmia_f1"],
        paper_b=R.FIDELITY["neutral_tabular"]["neutral_arrhythmia_f1"], label_a="IF",
        label_b="NeuTraL", ours_a=_per_seed(rows, detector="iforest"),
        ours_b=_per_seed(rows, detector="neutral"), scale=100, digits=1,
        setting=(f"breast_cancer (embedded), benign = normal, ODDS protocol (half the benign rows "
                 f"train); AUROC %; NeuTraL quick preset; seeds {seeds}. Paper figures: "
                 f"Arrhythmia F1, NeuTraL ≈ 60 (main text, approximate) vs IF 53.0 (Toll's "
                 f"table); the papers have no breast-cancer number"), why=why))
    return out


def magnitude_diagnostic(seeds: Sequence[int], neutral_auroc: float) -> str:
    """Why IsolationForest wins on breast cancer: where its anomaly signal lies.

    On the same ODDS splits (columns scaled by the training normals' standard deviation, as
    NeuTraL's table default), IsolationForest is fitted three times: on the rows, on their
    length ‖x‖ alone, and on their direction x/‖x‖ alone. NeuTraL's score compares embeddings by
    cosine similarity, so it mostly sees the direction. No labels are used for fitting.
    """
    from sklearn.ensemble import IsolationForest

    from ad_core import metrics as M
    from ad_core.data import load_dataset
    from ad_core.tasks import one_vs_rest

    ds = load_dataset("breast_cancer")
    views: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "rows": lambda z: z, "length ‖x‖ only": lambda z: np.linalg.norm(z, axis=1, keepdims=True),
        "direction x/‖x‖ only": lambda z: z / np.linalg.norm(z, axis=1, keepdims=True)}
    got: dict[str, list[float]] = {k: [] for k in views}
    for s in seeds:
        t = one_vs_rest(ds, ["benign"], s)
        tr, te = t.train_x.numpy().astype(float), t.test_x.numpy().astype(float)
        sd = tr.std(0)
        sd[sd < 1e-8] = 1.0
        for k, f in views.items():
            m = IsolationForest(random_state=s).fit(f(tr / sd))
            got[k].append(M.auroc(t.test_y, -m.score_samples(f(te / sd))))
    figs = ", ".join(f"{k} {_pm(np.asarray(v) * 100, 1)}" for k, v in got.items())
    length, direction = (float(np.mean(v)) for v in list(got.values())[1:])
    text = f"Diagnostic (IsolationForest on the same splits, seeds {list(seeds)}, AUROC %): {figs}"
    if length >= float(np.mean(got["rows"])) - 0.01:
        text += (". The length alone carries IsolationForest's signal: malignant rows differ "
                 "from benign ones mostly in magnitude (larger cells)")
    if math.isfinite(neutral_auroc) and direction < neutral_auroc:
        text += (f"; on the direction alone, which is what NeuTraL's cosine-similarity loss "
                 f"compares, IsolationForest ({100 * direction:.1f}) falls below NeuTraL "
                 f"({100 * neutral_auroc:.1f})")
    return text + (". The papers' own tables (thyroid, arrhythmia) are not on this machine to "
                   "check the claim where it was made")


def augmentation_claims(seeds: list[int], quick: bool, workers: int) -> list[dict[str, Any]]:
    """The augmentation study's claims, from the other benchmark's ``fidelity_claims`` when it
    exists; a row saying the group is missing otherwise (never a crash)."""
    try:
        from ad_core.benchmarks import augmentation
    except ImportError as e:  # pragma: no cover - the module is part of the repo
        return [missing_row("augmentation", f"ad_core.benchmarks.augmentation: {e}")]
    fn = getattr(augmentation, "fidelity_claims", None)
    if fn is None:
        return [missing_row("augmentation", "ad_core.benchmarks.augmentation has no "
                                            "fidelity_claims(seeds, quick) yet")]
    rows = list(fn(list(seeds), quick))
    return [{k: r.get(k) for k in ROW_KEYS} | {k: v for k, v in r.items() if k not in ROW_KEYS}
            for r in rows]


def missing_row(group: str, why: str) -> dict[str, Any]:
    """A placeholder row for a claim group that could not run here."""
    return {"paper": group, "claim": f"{group} claims", "paper_figure": "", "ours": "missing",
            "ours_mean": math.nan, "ours_std": math.nan, "n_seeds": 0, "setting": "",
            "verdict": "not reproduced", "reason": f"claim group missing: {why}"}


GROUPS: dict[str, Callable[[list[int], bool, int], list[dict[str, Any]]]] = {
    "toll": toll_claims, "lisae": lisae_claims, "geotrans": geotrans_claims,
    "neutral": neutral_claims, "augmentation": augmentation_claims}


# ----------------------------------------------------------------------------- report
def markdown(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    """The report: one table row per claim, then each claim's setting and reason."""
    counts = {v: sum(r["verdict"] == v for r in rows)
              for v in ("reproduced", "direction only", "not reproduced")}
    lines = [f"{len(rows)} claims: " + ", ".join(f"{n} {v}" for v, n in counts.items()) + ".", "",
             "Gap = B − A of the claim \"B beats A\", mean ± std over seeds, in the paper's unit.",
             "", "| # | paper | claim | paper | ours | gap | seeds | verdict |",
             "|---|---|---|---|---|---|---|---|"]
    for i, r in enumerate(rows, 1):
        m, sd = _num(r.get("ours_mean")), _num(r.get("ours_std"))
        gap = "n/a" if m is None else (f"{m:+.3g}" + ("" if sd is None else f" ± {sd:.2g}"))
        lines.append(f"| {i} | {r['paper']} | {r['claim']} | {r['paper_figure']} | {r['ours']} | "
                     f"{gap} | {r['n_seeds']} | **{r['verdict']}** |")
    lines += ["", "## Settings and reasons", ""]
    for i, r in enumerate(rows, 1):
        lines += [f"{i}. **{r['claim']}** — {r['verdict']}: {r['reason']}.",
                  f"   Setting: {r['setting']}.", ""]
    if meta.get("notes"):
        lines += ["## Notes", "", meta["notes"], ""]
    return "\n".join(lines)


def _num(v: Any) -> float | None:
    """A finite float, or None (other groups' rows may leave a figure empty)."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def parse_seeds(text: str) -> list[int]:
    """``"3"`` → [0, 1, 2]; ``"0,1,2"`` → [0, 1, 2]."""
    text = text.strip()
    if "," in text:
        return [int(s) for s in text.split(",") if s.strip()]
    return list(range(int(text)))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ad_core.benchmarks.fidelity",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="3", help="a count (3 = seeds 0, 1, 2) or a list 0,1,2")
    ap.add_argument("--quick", action="store_true", help="smoke run: one seed, fewer classes, "
                    "shorter training (a few minutes on 2 cores)")
    ap.add_argument("--groups", default=",".join(GROUPS),
                    help=f"claim groups to run (default all: {', '.join(GROUPS)})")
    ap.add_argument("--name", default="fidelity", help="output file stem under docs/results/")
    add_engine_args(ap)
    args = ap.parse_args(argv)
    configure(options_from_args(args))

    from ad_core.bench import write_results
    from ad_core.experiment import machine_info

    seeds = parse_seeds(args.seeds)
    if args.quick:
        seeds = seeds[:1]
    groups = [g.strip() for g in args.groups.split(",") if g.strip()]
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        ap.error(f"unknown claim group(s) {unknown}; choose from {list(GROUPS)}")
    t_all = time.time()
    rows: list[dict[str, Any]] = []
    timing: dict[str, float] = {}
    for g in groups:
        t0 = time.time()
        got = GROUPS[g](seeds, args.quick, args.workers)
        timing[g] = time.time() - t0
        for r in got:
            r["group"] = g
        rows += got
        for r in got:
            print(f"[{g}] {r['claim']}: {r['verdict']} ({r['ours']})", flush=True)
    meta = {"title": "Fidelity report: the papers' claims, rerun",
            "command": "python -m ad_core.benchmarks.fidelity " + " ".join(
                sys.argv[1:] if argv is None else list(argv)),
            "date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine_info(),
            "seeds": seeds, "quick": bool(args.quick), "groups": groups,
            "wall_seconds": time.time() - t_all, "group_seconds": timing,
            "load_average_at_end": os.getloadavg()[0],
            "notes": ("Data: mnist5k (500 images per class, 20 % test) and the embedded breast "
                      "cancer table, not the papers' full datasets; paper numbers from "
                      "ad_core/reference.py (REFERENCE_RESULTS.md). "
                      + ("QUICK smoke run: one seed, fewer classes, shortened training; its "
                         "verdicts are indicative only. " if args.quick else "")
                      + "Verdicts per METHODS.md §7 (direction only = right sign, gap below "
                        f"{FAR_SMALLER:.0%} of the paper's).")}
    jp, mp = write_results(args.name, rows, meta, markdown(rows, meta))
    print(f"wrote {jp} and {mp}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
