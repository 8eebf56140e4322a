"""What an external estimator class offers the adapter (issue 22; the adapter is
:mod:`ad_core.detectors.external`), read from the class itself: its parameters as
:class:`~ad_core.contracts.ParamSpec` (from the ``__init__`` signature and defaults; the type from
the default, choices from scikit-learn's parameter constraints, a ``Literal`` annotation or a
``{'a', 'b'}`` set in the numpydoc docstring, ranges from scikit-learn's intervals, anything else
as text holding a Python literal), which of ours stand for its own (``seed`` → ``random_state``,
``contamination``), which required arguments come from the data (``n_features``), its score
direction, and whether it can be trained on normals at all.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import numbers
import re
import typing
from dataclasses import dataclass, field
from typing import Any

from ad_core.contracts import ParamSpec
from ad_core.detectors.base import Detector
from ad_core.detectors.classical import CONTAMINATION, SEED, STANDARDIZE
from ad_core.errors import BadParameterError

#: Parameters fixed by the adapter (not shown): LOF must score new data.
FIXED: dict[str, dict[str, Any]] = {"sklearn:LocalOutlierFactor": {"novelty": True}}
#: Required ``__init__`` arguments the adapter fills from the data.
DATA_ARGS = {"n_features": lambda f: int(f.shape[1])}
#: Our parameters that stand for an estimator's: ours → the estimator's names it replaces.
MAPPED = {"seed": ("random_state", "seed"), "contamination": ("contamination",)}
#: Parameters shown under "advanced" (rarely changed, or about speed/logging only).
ADVANCED = {"verbose", "n_jobs", "device", "use_compile", "compile_mode", "warm_start",
            "metric_params", "leaf_size", "cache_size", "copy", "store_precision"}


# --------------------------------------------------------------------------- parameters
def _doc_params(doc: str | None) -> dict[str, str]:
    """numpydoc ``Parameters`` section → name → its text (type line and description)."""
    out: dict[str, str] = {}
    if not doc:
        return out
    lines = inspect.cleandoc(doc).splitlines()
    cur: str | None = None
    in_params = False
    for i, ln in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if re.match(r"^-{3,}\s*$", nxt) and ln.strip():
            in_params = ln.strip().lower() == "parameters"
            cur = None
            continue
        if not in_params or re.match(r"^-{3,}\s*$", ln):
            continue
        m = re.match(r"^(\w+)\s*:\s*(.*)$", ln)
        if m and not ln.startswith(" "):
            cur = m.group(1)
            out[cur] = m.group(2)
        elif cur is not None:
            out[cur] += "\n" + ln
    return out


def _help(text: str) -> str:
    """First sentence of a parameter's description (its type line kept in brackets)."""
    first, _, rest = text.partition("\n")
    body = " ".join(rest.split())
    sentence = re.split(r"(?<=[.!?])\s", body, maxsplit=1)[0] if body else ""
    out = (sentence + (f" [{first.strip()}]" if first.strip() else "")).strip()
    return out[:300]


def _doc_choices(text: str) -> tuple[str, ...] | None:
    m = re.search(r"\{([^{}]+)\}", text)
    if not m:
        return None
    items = re.findall(r"['\"]([^'\"]+)['\"]", m.group(1))
    return tuple(items) or None


def _literal(value: Any) -> bool:
    """Whether ``value`` survives ``repr`` → ``ast.literal_eval`` (so it can be edited as text)."""
    try:
        return ast.literal_eval(repr(value)) == value
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False


def text_value(value: Any) -> Any:
    """A text parameter's Python value: a literal (``None``, ``[64, 32]``, ``0.5``) or the string."""
    if not isinstance(value, str):
        return value
    try:
        return ast.literal_eval(value.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return value


def _constraints(cls: type, pname: str) -> list[Any]:
    c = getattr(cls, "_parameter_constraints", None)
    return list(c.get(pname, [])) if isinstance(c, dict) else []


def _bounds(cons: list[Any], integral: bool) -> tuple[float | None, float | None]:
    for c in cons:
        t = getattr(c, "type", None)
        if t is None or not hasattr(c, "left"):
            continue
        if integral == (t is numbers.Integral) or (not integral and t is numbers.Real):
            return c.left, c.right
    return None, None


def _spec_for(cls: type, pname: str, prm: inspect.Parameter, doc: str) -> ParamSpec | None:
    """A :class:`ParamSpec` for one ``__init__`` parameter (None: not editable, default kept)."""
    default = prm.default
    help_ = _help(doc) or f"{cls.__name__}'s {pname}."
    adv = pname in ADVANCED
    cons = _constraints(cls, pname)
    ann = prm.annotation
    if isinstance(ann, str):
        with contextlib.suppress(Exception):
            ann = typing.get_type_hints(cls.__init__).get(pname, ann)
    if typing.get_origin(ann) is typing.Literal and default in typing.get_args(ann):
        return ParamSpec(pname, "choice", default, help_, choices=typing.get_args(ann),
                         advanced=adv)
    if isinstance(default, bool):
        return ParamSpec(pname, "bool", default, help_, advanced=adv)
    if isinstance(default, int):
        lo, hi = _bounds(cons, True)
        return ParamSpec(pname, "int", default, help_, lo, hi, advanced=adv)
    if isinstance(default, float):
        lo, hi = _bounds(cons, False)
        return ParamSpec(pname, "float", default, help_, lo, hi, advanced=adv)
    if isinstance(default, str):
        opts: set[str] = set()
        for c in cons:
            opts |= set(getattr(c, "options", ()) or ())
        # a choice only where nothing but those strings can be typed (no numbers, no None)
        typed = any(c is None or hasattr(c, "left") or c in (int, float) or (
            inspect.isclass(c) and issubclass(c, numbers.Number)) for c in cons)
        choices = tuple(sorted(opts)) if default in opts and not typed else None
        if choices is None:
            found = _doc_choices(doc)
            choices = found if found and default in found else None
        if choices:
            return ParamSpec(pname, "choice", default, help_, choices=choices, advanced=adv)
        return ParamSpec(pname, "str", default, help_ + " (text)", advanced=adv)
    if _literal(default):
        return ParamSpec(pname, "str", repr(default), help_ + " (text: a Python literal such as "
                         "None, 3, 0.5, 'auto', [64, 32])", advanced=adv)
    return None


@dataclass(frozen=True)
class Plan:
    """How the adapter builds one estimator from our resolved parameters."""

    specs: tuple[ParamSpec, ...]
    passed: tuple[str, ...]  # our parameter names given to the estimator as they are
    mapped: dict[str, str] = field(default_factory=dict)  # ours → estimator's (seed → random_state)
    data_args: tuple[str, ...] = ()  # required arguments filled from the data (n_features)
    fixed: dict[str, Any] = field(default_factory=dict)
    hidden: tuple[str, ...] = ()  # parameters left at the estimator's default (not editable)


def plan_for(cls: type, full_name: str) -> Plan:
    try:
        sig = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        sig = inspect.Signature()
    docs = _doc_params(cls.__doc__)
    fixed = dict(FIXED.get(full_name, {}))
    specs: list[ParamSpec] = []
    passed: list[str] = []
    mapped: dict[str, str] = {}
    data_args: list[str] = []
    hidden: list[str] = []
    taken = {"preset", "preprocess"} | {n for n in dir(Detector) if not n.startswith("_")}
    for pname, prm in list(sig.parameters.items())[1:]:
        if prm.kind in (prm.VAR_POSITIONAL, prm.VAR_KEYWORD) or pname in fixed:
            continue
        ours = next((o for o, theirs in MAPPED.items() if pname in theirs), None)
        if ours is not None:
            mapped[ours] = pname
            continue
        if prm.default is inspect.Parameter.empty:
            if pname in DATA_ARGS:
                data_args.append(pname)
                continue
            raise BadParameterError(f"{full_name} needs the argument {pname!r}, which the adapter "
                                    "cannot supply (only estimators whose other arguments have "
                                    "defaults can be used).")
        spec = None if pname in taken or pname.endswith("_") else _spec_for(
            cls, pname, prm, docs.get(pname, ""))
        if spec is None:
            hidden.append(pname)
            continue
        specs.append(spec)
        passed.append(pname)
    specs += [CONTAMINATION, STANDARDIZE, SEED]
    return Plan(tuple(specs), tuple(passed), mapped, tuple(data_args), fixed, tuple(hidden))


def score_rule_of(cls: type, source: str) -> str:
    """How a raw score becomes ours (higher = more anomalous): ``decision_function`` as it is
    (PyOD's convention), ``-score_samples`` (scikit-learn's normality), or
    ``-decision_function``. Your class may say so itself: ``higher_is_anomalous = False``."""
    declared = getattr(cls, "higher_is_anomalous", None)
    if source == "pyod":
        return "decision_function"
    if source == "sklearn":
        return "-score_samples"
    has_df = callable(getattr(cls, "decision_function", None))
    if declared is not None:
        if has_df:
            return "decision_function" if declared else "-decision_function"
        return "score_samples" if declared else "-score_samples"
    with contextlib.suppress(Exception):
        from pyod.models.base import BaseDetector as PyODBase

        if issubclass(cls, PyODBase):
            return "decision_function"
    from sklearn.base import OutlierMixin

    if issubclass(cls, OutlierMixin):
        return "-score_samples" if callable(getattr(cls, "score_samples", None)) else \
            "-decision_function"
    if has_df:
        return "decision_function"
    if callable(getattr(cls, "score_samples", None)):
        return "-score_samples"
    raise BadParameterError(f"{cls.__name__} has no decision_function (higher = more anomalous) "
                            "or score_samples method to score with (docs/own_detector.md).")


def check_usable(cls: type, name: str) -> None:
    if inspect.isabstract(cls):
        raise BadParameterError(f"{name} is an abstract class and cannot be trained.")
    if not callable(getattr(cls, "fit", None)):
        raise BadParameterError(f"{name} has no fit method (docs/own_detector.md).")
    with contextlib.suppress(TypeError, ValueError):
        y = inspect.signature(cls.fit).parameters.get("y")
        if y is not None and y.default is inspect.Parameter.empty:
            raise BadParameterError(f"{name} is supervised (its fit needs labels y); Anomaly Lab "
                                    "trains on normals only.")
