"""The behaviour check of issue 10: every registered detector's AUROC on ``digits``.

For each detector this runs the CLI exactly as a user would::

    python -m ad_core train --dataset digits --normal 0 --detector NAME --preset quick --seed 0 \
        --json --no-save

and collects ``auroc``/``aupr``/``f1`` into one JSON table (timings are left out: they are not
behaviour). Most detectors reach AUROC 1.0 on digit 0, which says little, so the same experiment
is also run in-process (``run_experiment``, not saved) and a fingerprint of its test scores
(SHA-256 of the scores rounded to 6 decimals) is recorded beside the CLI's numbers. Usage::

    nice -n 19 .venv/bin/python docs/contract_check.py docs/results/contract_check_after.json

Two tables from before and after a refactor must be identical.

Old runs: ``contract_check.py write-runs DIR`` (run it with the *old* code) saves one run per
detector (plus tabular and renamed-parameter variants) under DIR; ``contract_check.py
check-runs DIR`` (with the new code) reloads each run's detector and checks that it returns exactly
the saved test scores on the rebuilt task, and that every run still opens (config, metrics,
explanation, training record).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def detector_names() -> list[str]:
    from ad_core.detectors import available_detectors

    return list(available_detectors())


def run_one(name: str) -> dict:
    cmd = [sys.executable, "-m", "ad_core", "train", "--dataset", "digits", "--normal", "0",
           "--detector", name, "--preset", "quick", "--seed", "0", "--json", "--no-save"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    row = {k: res[k] for k in ("auroc", "aupr", "f1", "n_train", "n_test")}
    row["scores_sha256"] = scores_fingerprint(name)
    return row


def scores_fingerprint(name: str) -> str:
    import hashlib

    import numpy as np

    from ad_core.experiment import ExperimentSpec, run_experiment

    res = run_experiment(ExperimentSpec(dataset="digits", normal=["0"], detector=name,
                                        preset="quick", seed=0), save=False)
    return hashlib.sha256(np.round(res.scores.astype(np.float64), 6).tobytes()).hexdigest()[:16]


#: (detector, dataset, normal, params) of the old-run check: every detector on digits, the
#: tabular paths and the parameters renamed by issue 10, under their old names.
OLD_RUNS = [*((n, "digits", "0", {}) for n in (
    "ae", "dae", "toll", "lisae", "geotrans", "neutral", "iforest", "ocsvm", "lof", "kde",
    "cae_ocsvm")),
    ("neutral", "breast_cancer", "benign", {"scaling": "standard", "z_dim": 16,
                                            "batch_norm": True, "epochs": 5}),
    ("iforest", "breast_cancer", "benign", {"standardize": "yes"}),
    ("toll", "digits", "3", {"selection": "labelled_val", "n_val_anomalies": 40,
                             "iterations": 40})]


def write_runs(root: str) -> None:
    from ad_core.experiment import ExperimentSpec, run_experiment

    for i, (det, ds, normal, params) in enumerate(OLD_RUNS):
        run_experiment(ExperimentSpec(dataset=ds, normal=[normal], detector=det, params=params,
                                      seed=0), save=True, root=Path(root),
                       run_id=f"old-{i:02d}-{det}")


def check_runs(root: str) -> dict:
    import numpy as np

    from ad_core.data import load_dataset
    from ad_core.runs import list_runs
    from ad_core.tasks import build_task

    out = {}
    for run in sorted(list_runs(Path(root)), key=lambda r: r.run_id):
        c = run.config
        ts = c["task_spec"]
        task = build_task(load_dataset(ts["dataset"]), ts["kind"], ts["normal"], ts["seed"],
                          **ts["options"])
        det = run.detector()
        s = det.decision_function(task.test_x)
        ex, rep = run.explanation(), run.fit_report()
        out[run.run_id] = {"identical_scores": bool(np.array_equal(s, run.scores["test"])),
                           "params": det.get_params(), "explanation": list(ex.available()),
                           "phases": [p.name for p in rep.phases], "cancelled": rep.cancelled,
                           "auroc": run.metrics["auroc"]}
    return out


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    if len(argv) > 2 and argv[1] == "write-runs":
        write_runs(argv[2])
        return 0
    if len(argv) > 2 and argv[1] == "check-runs":
        res = check_runs(argv[2])
        print(json.dumps(res, indent=1, default=str))
        return 0 if res and all(r["identical_scores"] for r in res.values()) else 1
    names = argv[1:2] and argv[2:] or detector_names()
    table = {n: run_one(n) for n in names}
    text = json.dumps({"command": "python -m ad_core train --dataset digits --normal 0 "
                                  "--detector NAME --preset quick --seed 0 --json --no-save",
                       "auroc": table}, indent=1)
    if len(argv) > 1:
        Path(argv[1]).write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
