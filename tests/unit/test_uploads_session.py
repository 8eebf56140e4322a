"""Uploads on a shared server (issue 17): each upload belongs to the browser session that made it,
is named by the user's file name (never a server path), lives within a size budget, and is never
deleted while a saved run names it."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from ad_core import catalogue
from ad_core.data import load_dataset
from ad_core.data import user as U
from ad_core.errors import BadDataError, UnknownNameError, UserError

A, B = "owner-token-a", "owner-token-b"
KB = 1024


def table(rows: int, seed: int = 0) -> bytes:
    """A valid CSV (two features, two classes) of about ``rows * 12`` bytes."""
    lines = ["x1,x2,label"] + [f"{(i * 7 + seed) % 100},{(i * 3 + seed) % 50},{i % 2}"
                               for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture()
def folders(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """A fresh data folder and run store for each test: (data root, runs root)."""
    data, runs = tmp_path / "data", tmp_path / "runs"
    data.mkdir()
    runs.mkdir()
    monkeypatch.setenv("ANOMALY_LAB_DATA", str(data))
    monkeypatch.setenv("ANOMALY_LAB_RUNS", str(runs))
    monkeypatch.delenv(U.UPLOAD_BUDGET_ENV, raising=False)
    return data, runs


def save_fake_run(runs: Path, dataset: str, run_id: str = "20260101-000000-iforest-abc123") -> None:
    """A run folder whose ``config.json`` names ``dataset`` (all cleanup reads of a run)."""
    d = runs / run_id
    d.mkdir()
    (d / "config.json").write_text(json.dumps({"dataset": dataset, "detector": "iforest",
                                               "normal": ["0"], "task": "one-vs-rest"}))


def age(name: str, seconds: float) -> None:
    """Make an upload look last used ``seconds`` ago."""
    p = U.upload_path(name)
    t = time.time() - seconds
    os.utime(p, (t, t))


def no_server_path(text: str, data: Path) -> None:
    assert str(data) not in text and "uploads/" not in text, text
    assert "csv:/" not in text and "images:/" not in text, text


# ----------------------------------------------------------------------------- ownership
def test_two_sessions_never_see_or_open_each_others_uploads(folders):
    data, _ = folders
    a = catalogue.upload_dataset("heldout-wine.csv", table(40), A)
    b = catalogue.upload_dataset("mine.csv", table(40, seed=1), B)
    assert U.upload_path(a).parent.name == U.owner_folder(A) != U.owner_folder(B)
    assert A not in a and B not in b  # the session token itself never reaches a name or the disk

    listed_b = [e.name for e in catalogue.dataset_catalogue([a, b], owner=B)]
    assert b in listed_b and a not in listed_b
    listed_a = [e.name for e in catalogue.dataset_catalogue([a, b], owner=A)]
    assert a in listed_a and b not in listed_a

    assert catalogue.load(a, owner=A).n_classes == 2
    with pytest.raises(U.UploadElsewhereError, match="another browser session") as e:
        catalogue.load(a, owner=B)  # a name guessed or pasted from session A
    assert "heldout-wine.csv" in str(e.value)
    no_server_path(str(e.value), data)


def test_same_file_from_two_sessions_is_two_uploads(folders):
    raw = table(30)
    a = catalogue.upload_dataset("w.csv", raw, A)
    b = catalogue.upload_dataset("w.csv", raw, B)
    assert a != b and catalogue.upload_dataset("w.csv", raw, A) == a
    assert U.owns_upload(a, A) and not U.owns_upload(a, B) and U.owns_upload(b, B)


def test_a_session_cannot_open_other_server_files(folders, tmp_path):
    other = tmp_path / "server-secret.csv"
    other.write_bytes(table(10))
    with pytest.raises(UnknownNameError, match="your own uploads") as e:
        catalogue.load(f"csv:{other}", owner=A)
    assert str(tmp_path) not in str(e.value)
    assert catalogue.load(f"csv:{other}").n_classes == 2  # jobs and the CLI load without an owner
    assert catalogue.load("digits", owner=A).n_classes == 10


# ----------------------------------------------------------------------------- names shown
def test_messages_name_the_users_file_never_the_server_path(folders):
    data, _ = folders
    name = catalogue.upload_dataset("heldout-wine.csv", table(40), A)
    assert str(data) in name  # the name is a stored path ...
    choice = catalogue.DataChoice(dataset=name, normal=["0"])
    text = choice.describe()  # Train page "Task:" line and sidebar "Next training on:"
    assert text.startswith("heldout-wine.csv (your upload) · normal 0")
    no_server_path(text, data)
    entry = next(e for e in catalogue.dataset_catalogue([name], owner=A) if e.uploaded)
    assert entry.label == "heldout-wine.csv — tabular, yours"
    assert entry.description.startswith("heldout-wine.csv: 40 rows")
    no_server_path(entry.label + entry.description, data)
    assert U.dataset_display_name(name, A) == "heldout-wine.csv (your upload)"
    assert U.dataset_display_name(name, B) == "heldout-wine.csv (another session's upload)"
    assert U.dataset_display_name(name) == "heldout-wine.csv (upload)"
    assert U.dataset_display_name("mnist5k") == "mnist5k"


def test_a_bad_upload_names_the_file_and_is_not_kept(folders):
    data, _ = folders
    with pytest.raises(BadDataError, match="no 'label' column") as e:
        catalogue.upload_dataset("my table.csv", b"a,b\n1,2\n3,4\n", A)
    assert "my table.csv" in str(e.value)
    no_server_path(str(e.value), data)
    assert U.upload_files() == []


# ----------------------------------------------------------------------------- budget
def test_budget_is_read_from_the_environment(monkeypatch):
    monkeypatch.delenv(U.UPLOAD_BUDGET_ENV, raising=False)
    assert U.upload_budget_bytes() == 200 * 2**20
    monkeypatch.setenv(U.UPLOAD_BUDGET_ENV, "0.5")
    assert U.upload_budget_bytes() == 2**19
    for bad in ("lots", "-3", "0", "nan"):
        monkeypatch.setenv(U.UPLOAD_BUDGET_ENV, bad)
        assert U.upload_budget_bytes() == 200 * 2**20


def test_budget_evicts_the_oldest_unused_upload(folders, monkeypatch):
    raws = [table(120, seed=s) for s in range(3)]  # about 1 KB each
    assert all(900 < len(r) < 1500 for r in raws)
    monkeypatch.setenv(U.UPLOAD_BUDGET_ENV, str(2.5 * sum(map(len, raws[:2])) / 2 / 2**20))
    first = catalogue.upload_dataset("first.csv", raws[0], A)
    second = catalogue.upload_dataset("second.csv", raws[1], B)
    age(first, 600)
    age(second, 300)
    third = catalogue.upload_dataset("third.csv", raws[2], A)
    assert U.upload_path(first) is not None and not U.upload_path(first).exists()
    assert U.upload_path(second).exists() and U.upload_path(third).exists()
    assert sum(f.stat().st_size for f in U.upload_files()) <= U.upload_budget_bytes()
    # the session that lost it is told so, by file name
    with pytest.raises(U.UploadGoneError, match="first.csv is no longer on this server"):
        catalogue.load(first, owner=A)
    gone = next(e for e in catalogue.dataset_catalogue([first, third], owner=A) if e.name == first)
    assert not gone.available and "no longer on this server" in gone.description
    assert "first.csv" in catalogue.unavailable_message(first)


def test_using_an_upload_keeps_it_longer(folders, monkeypatch):
    raws = [table(120, seed=s) for s in range(3)]
    monkeypatch.setenv(U.UPLOAD_BUDGET_ENV, str(2.5 * len(raws[0]) / 2**20))
    first = catalogue.upload_dataset("first.csv", raws[0], A)
    second = catalogue.upload_dataset("second.csv", raws[1], A)
    age(first, 600)
    age(second, 300)
    catalogue.load(first, owner=A)  # the Data page opens it: now the most recently used
    catalogue.upload_dataset("third.csv", raws[2], A)
    assert U.upload_path(first).exists() and not U.upload_path(second).exists()


def test_an_upload_that_cannot_fit_gets_one_clear_message(folders, monkeypatch):
    data, runs = folders
    raw = table(120)
    monkeypatch.setenv(U.UPLOAD_BUDGET_ENV, str(len(raw) * 0.5 / 2**20))
    with pytest.raises(U.UploadSpaceError, match="more than this server keeps") as e:
        catalogue.upload_dataset("big.csv", raw, A)
    assert "big.csv" in str(e.value)
    no_server_path(str(e.value), data)
    assert U.upload_files() == []


def test_uploads_that_runs_use_are_never_evicted(folders, monkeypatch):
    data, runs = folders
    raws = [table(120, seed=s) for s in range(3)]
    monkeypatch.setenv(U.UPLOAD_BUDGET_ENV, str(2.5 * len(raws[0]) / 2**20))
    used = catalogue.upload_dataset("used.csv", raws[0], A)
    save_fake_run(runs, used)
    age(used, 3 * 24 * 3600)  # old and least recently used: still kept
    other = catalogue.upload_dataset("other.csv", raws[1], B)
    age(other, 600)
    newest = catalogue.upload_dataset("newest.csv", raws[2], A)
    assert U.upload_path(used).exists() and U.upload_path(newest).exists()
    assert not U.upload_path(other).exists()
    assert U.uploads_in_use() == {U.upload_path(used).name}
    # now the run's upload alone fills more than the budget leaves: a clear refusal, nothing lost
    monkeypatch.setenv(U.UPLOAD_BUDGET_ENV, str(1.5 * len(raws[0]) / 2**20))
    with pytest.raises(U.UploadSpaceError, match="saved runs or queued trainings still use") as e:
        catalogue.upload_dataset("late.csv", table(110, seed=9), B)
    no_server_path(str(e.value), data)
    assert U.upload_path(used).exists()
    # the run's dataset still loads the way jobs and views load it
    assert load_dataset(used).n_classes == 2


def test_a_queued_job_in_the_journal_protects_its_upload(folders, monkeypatch):
    _, runs = folders
    raws = [table(120, seed=s) for s in range(2)]
    monkeypatch.setenv(U.UPLOAD_BUDGET_ENV, str(1.5 * len(raws[0]) / 2**20))
    queued = catalogue.upload_dataset("queued.csv", raws[0], A)
    (runs / ".jobs").mkdir()
    (runs / ".jobs" / "journal.json").write_text(json.dumps(
        {"jobs": [{"spec": {"dataset": queued}, "status": "queued"}]}))
    with pytest.raises(U.UploadSpaceError):
        catalogue.upload_dataset("next.csv", raws[1], B)
    assert U.upload_path(queued).exists()


# ----------------------------------------------------------------------------- age
def test_day_old_unused_uploads_go_at_the_next_upload_and_at_start(folders, monkeypatch):
    _, runs = folders
    stale = catalogue.upload_dataset("stale.csv", table(20, seed=1), A)
    kept = catalogue.upload_dataset("kept.csv", table(20, seed=2), B)
    fresh = catalogue.upload_dataset("fresh.csv", table(20, seed=3), B)
    save_fake_run(runs, kept)
    for n in (stale, kept):
        age(n, 25 * 3600)
    catalogue.upload_dataset("new.csv", table(20, seed=4), A)
    assert not U.upload_path(stale).exists()
    assert U.upload_path(kept).exists() and U.upload_path(fresh).exists()

    # at server start: the first dataset listing of the process cleans once
    age(fresh, 25 * 3600)
    monkeypatch.setattr(U, "_CLEANED_ONCE", False)
    catalogue.dataset_catalogue([], owner=A)
    assert not U.upload_path(fresh).exists() and U.upload_path(kept).exists()


def test_a_removed_upload_fails_clearly_everywhere_it_is_reloaded(folders):
    data, runs = folders
    name = catalogue.upload_dataset("heldout-wine.csv", table(40), A)
    U.upload_path(name).unlink()  # e.g. deleted by hand on the server
    for call in (lambda: catalogue.load(name), lambda: catalogue.load(name, owner=A),
                 lambda: U.load_csv(U.upload_path(name))):
        with pytest.raises(U.UploadGoneError) as e:
            call()
        assert "heldout-wine.csv is no longer on this server" in str(e.value)
        no_server_path(str(e.value), data)
    assert isinstance(e.value, UserError)
