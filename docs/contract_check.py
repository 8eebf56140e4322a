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
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def detector_names() -> list[str]:
    sys.path.insert(0, str(ROOT))
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


def main(argv: list[str]) -> int:
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
