"""User-facing errors.

Every mistake a user can make (unknown dataset, unknown class, bad hyperparameter, corrupt upload,
missing files) raises a :class:`UserError` subclass carrying one sentence a newcomer understands.
Pages show it with ``st.error``; the CLI prints it and exits with code 2. Tracebacks are for bugs.
"""

from __future__ import annotations


class UserError(Exception):
    """A mistake in the user's input, explained in one plain sentence."""


class UnknownNameError(UserError):
    """An unknown dataset, class, detector, task, augmentation or parameter name."""


class BadParameterError(UserError):
    """A hyperparameter outside its documented range or of the wrong type."""


class BadDataError(UserError):
    """Data that cannot be used: empty, NaN, wrong shape, corrupt file."""


class DatasetUnavailableError(UserError):
    """A dataset whose files are not on disk and cannot be downloaded here."""


class TrainingCancelledError(UserError):
    """Training was stopped by the user before a usable model existed."""


class DetectorUnavailableError(UserError):
    """A detector that cannot be built or restored here (an optional package is missing, or a
    saved external estimator cannot be refitted); a saved run still opens from its scores."""


class ExternalDetectorError(UserError):
    """An external estimator (PyOD, scikit-learn or the user's own class) raised; the message
    is one line naming the file and line that raised."""


def did_you_mean(name: str, choices: list[str] | tuple[str, ...]) -> str:
    """A short hint listing the valid choices (closest first) for an unknown ``name``."""
    import difflib

    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=3, cutoff=0.5)
    if close:
        return f"Did you mean {', '.join(repr(c) for c in close)}?"
    shown = ", ".join(str(c) for c in list(choices)[:20])
    more = "" if len(choices) <= 20 else f", … ({len(choices)} in all)"
    return f"Choose one of: {shown}{more}."
