"""The command line contract: ``train --json`` ends stdout with one JSON object; user mistakes exit
with code 2 and one line on stderr, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ad_core.cli import main
from ad_core.data.base import REPO_ROOT
from ad_core.runs import load_run

TRAIN = ["train", "--dataset", "digits", "--normal", "0", "--detector", "iforest",
         "--param", "n_estimators=30"]
REQUIRED = {"dataset", "normal", "detector", "preset", "seed", "auroc", "aupr", "f1",
            "fit_seconds", "score_seconds", "run_id"}


def test_train_json_last_line(capsys, runs_dir):
    assert main(TRAIN + ["--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    rec = json.loads(out[-1])
    assert set(rec) >= REQUIRED
    assert rec["dataset"] == "digits" and rec["normal"] == ["0"] and rec["detector"] == "iforest"
    assert 0.5 < rec["auroc"] <= 1.0 and rec["n_test"] > 0
    run = load_run(rec["run_id"])  # saved under $ANOMALY_LAB_RUNS (the session's tmp folder)
    assert run.path.parent == runs_dir
    assert run.metrics["auroc"] == pytest.approx(rec["auroc"], abs=1e-6)
    assert main(["runs"]) == 0
    assert rec["run_id"] in capsys.readouterr().out


def test_train_saves_training_snapshots_unless_told_not_to(capsys, runs_dir):
    from ad_core.snapshots import load_replay

    deep = ["train", "--dataset", "digits", "--normal", "0", "--detector", "ae", "--param",
            "epochs=3", "--json"]
    assert main(deep) == 0
    rec = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    rep = load_replay(load_run(rec["run_id"]).path)
    assert rep is not None and len(rep) >= 7 and rep.final[-1]
    assert main(deep + ["--seed", "1", "--no-snapshots"]) == 0
    rec = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert load_replay(load_run(rec["run_id"]).path) is None  # an older run reads the same way


def test_train_human_output_and_no_save(capsys):
    assert main(TRAIN + ["--no-save"]) == 0
    out = capsys.readouterr().out
    assert "AUROC" in out and "saved run" not in out


@pytest.mark.parametrize("args,fragment", [
    (["train", "--dataset", "nope", "--detector", "iforest"], "Unknown dataset"),
    (["train", "--dataset", "digits", "--normal", "11", "--detector", "iforest"], "no class"),
    (["train", "--dataset", "digits", "--detector", "isoforest"], "Unknown detector"),
    (TRAIN + ["--param", "depth=3"], "no parameter"),
    (TRAIN + ["--param", "n_estimators=lots"], "must be an int"),
    (TRAIN + ["--param", "n_estimators=1"], "out of range"),
    (TRAIN + ["--param", "n_estimators"], "KEY=VALUE"),
    (TRAIN + ["--preset", "huge"], "no preset"),
    (TRAIN + ["--label-column", "y"], "only applies"),
    (["train", "--dataset", "digits", "--normal", "0", "--detector", "iforest", "--task", "x"],
     "Unknown task"),
    (["train", "--dataset", "mnist", "--detector", "iforest"], "not available"),
])
def test_user_mistakes_exit_2_with_one_line(capsys, args, fragment):
    assert main(args) == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and fragment in lines[0]
    assert "Traceback" not in err


def test_datasets_and_detectors_listings(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "digits" in out and "missing: mnist/MNIST/raw" in out and "ANOMALY_LAB_DATA" in out
    assert main(["detectors"]) == 0
    out = capsys.readouterr().out
    assert "iforest" in out and "n_estimators" in out


def test_subprocess_reports_without_traceback():
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    p = subprocess.run([sys.executable, "-m", "ad_core", "train", "--dataset", "digits",
                        "--normal", "cat", "--detector", "iforest"], cwd=REPO_ROOT, env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    assert [ln for ln in p.stderr.splitlines() if ln.strip()][0].startswith("error: ")


def test_negatives_task_records_its_source_and_tests_only_unseen_classes(capsys):
    args = ["train", "--dataset", "digits", "--normal", "0", "--detector", "iforest", "--param",
            "n_estimators=30", "--task", "negatives", "--no-save", "--json"]
    assert main(args + ["--negatives", "5,6,7,8,9"]) == 0
    rec = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rec["negatives_source"] == "classes 5, 6, 7, 8, 9 of digits"
    assert main(args + ["--negatives", "other-half"]) == 0
    same = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert same["negatives_source"] == rec["negatives_source"] and same["n_test"] == rec["n_test"]
    assert main(args + ["--negatives", "strokes"]) == 0
    strokes = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert "strokes" in strokes["negatives_source"] and strokes["n_test"] > rec["n_test"]


def test_negatives_option_needs_the_negatives_task(capsys):
    assert main(TRAIN + ["--negatives", "5"]) == 2
    assert "--task negatives" in capsys.readouterr().err


def test_reuse_reports_the_existing_run_and_a_change_trains_afresh(capsys, runs_dir):
    """``train --reuse``: the same experiment reports its saved run (marked ``reused``); any
    change (here the seed) trains; without ``--reuse`` the CLI always trains fresh."""
    mine = TRAIN + ["--seed", "7"]  # no other test trains this seed
    assert main(mine + ["--json", "--reuse"]) == 0
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert "reused" not in first
    assert main(mine + ["--json", "--reuse"]) == 0
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert again["reused"] is True and again["run_id"] == first["run_id"]
    assert again["auroc"] == first["auroc"]
    assert main(TRAIN + ["--json", "--reuse", "--seed", "8"]) == 0
    other = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert "reused" not in other and other["run_id"] != first["run_id"]
    assert main(mine + ["--json"]) == 0
    fresh = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert "reused" not in fresh and fresh["run_id"] != first["run_id"]


@pytest.mark.parametrize("seed", ["-1", "two"])
def test_a_bad_seed_is_one_line_not_a_traceback(seed):
    p = subprocess.run([sys.executable, "-m", "ad_core", *TRAIN, "--seed", seed],
                       capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "--seed" in p.stderr.strip().splitlines()[-1]
