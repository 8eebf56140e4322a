"""The app's door to training jobs: submit (checked, then reused, joined or queued), list,
follow, cancel and resubmit the jobs of a browser session (docs/ARCHITECTURE.md, floor 9).

Everything else the pages need they import from the module that owns it (the layering test,
``tests/unit/test_layers.py``, lists which): :mod:`ad_core.catalogue` (datasets, choices,
detectors), :mod:`ad_core.page_data` (what a run's pages show), :mod:`ad_core.results`
(generated results), :mod:`ad_core.sample_input` / :mod:`ad_core.sample_report` (one sample
explained), :mod:`ad_core.projection`, :mod:`ad_core.teaching`, :mod:`ad_core.runs`. Nothing
here imports streamlit. Owners are the app's per-browser-session tokens (see :mod:`ad_core.jobs`).
"""

from __future__ import annotations

import re

from ad_core import jobs
from ad_core.catalogue import quickstart_spec
from ad_core.data import dataset_info
from ad_core.detectors import check_detector
from ad_core.errors import UnknownNameError, did_you_mean
from ad_core.experiment import ExperimentSpec
from ad_core.jobs import (
    CANCELLED,
    DONE,
    FAILED,
    INTERRUPTED,
    QUEUED,
    RUNNING,
    JobSnapshot,
    QueueInfo,
)
from ad_core.tasks import TASK_KINDS

__all__ = ["CANCELLED", "DONE", "FAILED", "INTERRUPTED", "QUEUED", "RUNNING", "JobSnapshot",
           "QueueInfo", "adopt_jobs", "cancel_job", "forget_job", "job", "journal_problem",
           "list_jobs", "queue_info", "resubmit_job", "start_quickstart", "start_training",
           "train_again"]


def start_training(spec: ExperimentSpec, owner: str, label: str | None = None, *,
                   reuse: bool = True) -> str:
    """Queue a training job for ``owner``; returns the job id (checks names before queueing).

    ``reuse=True`` (the app's default): an experiment whose run already exists opens that run,
    one that is queued or running is joined; ``reuse=False`` (*Train again*) trains afresh."""
    check_detector(spec.detector, spec.preset, spec.params)  # bad names/values → clear error now
    if spec.task not in TASK_KINDS:
        raise UnknownNameError(f"Unknown task {spec.task!r}. {did_you_mean(spec.task, TASK_KINDS)}")
    if not spec.dataset.startswith(("csv:", "images:")):
        dataset_info(spec.dataset)
    return jobs.get_manager().submit(spec, owner, label, reuse=reuse)


def start_quickstart(owner: str) -> str:
    """Queue (or join, or reopen) the quick-start training for ``owner``; returns the job id."""
    spec = quickstart_spec()
    return start_training(spec, owner, label=f"Quick start: {jobs.describe_spec(spec)}")


def train_again(job_id: str, owner: str) -> str:
    """Train the experiment of one of ``owner``'s jobs afresh (no reuse, no joining)."""
    s = jobs.get_manager().snapshot(job_id, owner)
    return start_training(s.spec, owner, s.label, reuse=False)


def resubmit_job(job_id: str, owner: str) -> str:
    """Submit an interrupted job of ``owner`` again (joining or reusing where it can)."""
    return jobs.get_manager().resubmit(job_id, owner)


def list_jobs(owner: str, active_only: bool = False) -> list[JobSnapshot]:
    """``owner``'s jobs, oldest first."""
    return jobs.get_manager().list(owner, active_only)


def job(job_id: str, owner: str) -> JobSnapshot:
    """One of ``owner``'s jobs."""
    return jobs.get_manager().snapshot(job_id, owner)


def cancel_job(job_id: str, owner: str) -> JobSnapshot:
    """Stop one of ``owner``'s jobs (queued: dropped; running: stops at the next step; shared
    with other sessions: only this session leaves it)."""
    return jobs.get_manager().cancel(job_id, owner)


def forget_job(job_id: str, owner: str) -> None:
    """Hide a finished job from ``owner``'s list."""
    jobs.get_manager().forget(job_id, owner)


def adopt_jobs(job_ids: list[str], owner: str) -> list[str]:
    """Re-attach jobs named in the URL after a reload; returns the ids that still exist."""
    m = jobs.get_manager()
    return [j for j in job_ids if re.fullmatch(r"[0-9a-f]{24}", j) and m.adopt(j, owner)]


def queue_info(job_id: str) -> QueueInfo | None:
    """Place, queue length and estimated wait of a queued job (``None`` if not queued)."""
    return jobs.get_manager().queue_info(job_id)


def journal_problem() -> str:
    """A sentence when the job journal of the previous server could not be read, else ""."""
    return jobs.get_manager().journal_problem
