"""Evaluation metrics (docs/methods.md §8; statistics §9). Anomaly = positive class; scores: higher =
more anomalous. The augmentation study's one-sided Wilcoxon test is :func:`wilcoxon_paired`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from sklearn import metrics as skm

from ad_core.errors import BadDataError


def _check(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y).astype(int).ravel()
    s = np.asarray(s, dtype=np.float64).ravel()
    if len(y) != len(s):
        raise BadDataError(f"{len(y)} labels but {len(s)} scores.")
    if not np.isfinite(s).all():
        raise BadDataError("Some anomaly scores are NaN or infinite; the model diverged.")
    if len(np.unique(y)) < 2:
        raise BadDataError("AUROC needs both normal and anomalous test samples.")
    return y, s


def auroc(y: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve with anomalies as positives."""
    y, s = _check(y, scores)
    return float(skm.roc_auc_score(y, s))


def aupr(y: np.ndarray, scores: np.ndarray) -> float:
    """Area under the precision–recall curve (average precision), anomalies positive."""
    y, s = _check(y, scores)
    return float(skm.average_precision_score(y, s))


def contamination_threshold(scores: np.ndarray, contamination: float) -> float:
    """Score above which the top ``contamination`` fraction of ``scores`` lies."""
    return float(np.quantile(np.asarray(scores, dtype=np.float64), 1.0 - contamination))


def f1_at_contamination(y: np.ndarray, scores: np.ndarray) -> float:
    """F1 when the top fraction of test scores equal to the true anomaly fraction is flagged."""
    y, s = _check(y, scores)
    k = int(y.sum())
    order = np.argsort(-s, kind="stable")
    pred = np.zeros_like(y)
    pred[order[:k]] = 1
    return float(skm.f1_score(y, pred))


def roc_curve(y: np.ndarray, scores: np.ndarray) -> dict[str, np.ndarray]:
    """False/true positive rates and thresholds of the ROC curve."""
    y, s = _check(y, scores)
    fpr, tpr, thr = skm.roc_curve(y, s)
    return {"fpr": fpr, "tpr": tpr, "thresholds": thr}


def pr_curve(y: np.ndarray, scores: np.ndarray) -> dict[str, np.ndarray]:
    """Precision/recall pairs and thresholds of the PR curve."""
    y, s = _check(y, scores)
    p, r, thr = skm.precision_recall_curve(y, s)
    return {"precision": p, "recall": r, "thresholds": thr}


def confusion_at(y: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    """Confusion counts and precision/recall/F1 when scores > ``threshold`` are flagged."""
    y = np.asarray(y).astype(int).ravel()
    pred = (np.asarray(scores) > threshold).astype(int)
    tp = int(((pred == 1) & (y == 1)).sum())
    fp = int(((pred == 1) & (y == 0)).sum())
    fn = int(((pred == 0) & (y == 1)).sum())
    tn = int(((pred == 0) & (y == 0)).sum())
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": prec, "recall": rec, "f1": f1}


def per_kind_auroc(test_kind: Sequence[str], scores: np.ndarray) -> dict[str, float]:
    """AUROC of the normals against each anomaly kind separately (testbed types, classes)."""
    kind = np.asarray(test_kind).astype(str)
    s = np.asarray(scores)
    normal = kind == "normal"
    out: dict[str, float] = {}
    for k in sorted(set(kind) - {"normal"}):
        sel = normal | (kind == k)
        out[k] = auroc((kind[sel] != "normal").astype(int), s[sel])
    return out


def one_vs_one_auroc(test_class: Sequence[int], scores: np.ndarray, normal_class: int,
                     class_names: Sequence[str] | None = None) -> dict[str, float]:
    """AUROC of one normal class against each other class alone (the study's "in the wild")."""
    c = np.asarray(test_class)
    s = np.asarray(scores)
    out: dict[str, float] = {}
    for other in sorted(set(c.tolist()) - {normal_class}):
        sel = (c == normal_class) | (c == other)
        name = class_names[other] if class_names is not None else str(other)
        out[str(name)] = auroc((c[sel] == other).astype(int), s[sel])
    return out


Alternative = Literal["greater", "less"]


def signed_rank_null(n: int) -> np.ndarray:
    """Exact null distribution of the Wilcoxon signed-rank statistic T⁺ for ``n`` untied,
    non-zero differences: ``P[t] = P(T⁺ = t)``, t = 0 … n(n+1)/2 (each rank's sign is a fair
    coin under H0, so the counts are the coefficients of ∏ᵢ (1 + xⁱ))."""
    prob = np.ones(1)
    for i in range(1, int(n) + 1):
        nxt = np.zeros(len(prob) + i)
        nxt[:len(prob)] += prob / 2
        nxt[i:] += prob / 2
        prob = nxt
    return prob


def walsh_averages(x: Sequence[float]) -> np.ndarray:
    """All n(n+1)/2 Walsh averages (xᵢ + xⱼ)/2, i ≤ j, sorted."""
    x = np.asarray(x, dtype=float).ravel()
    i, j = np.triu_indices(len(x))
    return np.sort((x[i] + x[j]) / 2)


def hodges_lehmann(x: Sequence[float], confidence: float = 0.95) -> dict[str, float | bool]:
    """Pseudomedian (Hodges–Lehmann estimate: the median of the Walsh averages) of ``x`` and its
    distribution-free confidence interval from the ordered Walsh averages.

    The interval is [W₍ₖ₎, W₍ₘ₋ₖ₊₁₎] of the M = n(n+1)/2 sorted Walsh averages, with k − 1 the
    largest signed-rank critical value such that P(T⁺ ≤ k − 1) ≤ (1 − confidence)/2 under the
    exact null distribution; its coverage is 1 − 2·P(T⁺ ≤ k − 1) (at least ``confidence``).
    When even k = 1 is too wide a tail — n ≤ 5 for 95 %, since P(T⁺ = 0) = 2⁻ⁿ — the widest
    attainable interval [min x, max x] is returned with ``attained`` False and its actual
    ``coverage`` 1 − 2¹⁻ⁿ (93.75 % for n = 5). Exact for continuous data without ties.
    """
    x = np.asarray(x, dtype=float).ravel()
    if len(x) == 0:
        raise BadDataError("The Hodges–Lehmann estimate needs at least one value.")
    if not 0 < confidence < 1:
        raise BadDataError(f"The confidence level must lie in (0, 1), got {confidence}.")
    w = walsh_averages(x)
    cdf = np.cumsum(signed_rank_null(len(x)))
    tail = (1 - confidence) / 2
    ok = np.flatnonzero(cdf <= tail + 1e-12)  # the t with P(T⁺ ≤ t) ≤ tail; k − 1 = the largest
    k = int(ok[-1]) + 1 if len(ok) else 1
    coverage = max(0.0, 1 - 2 * float(cdf[k - 1]))
    return {"pseudomedian": float(np.median(w)), "ci_low": float(w[k - 1]),
            "ci_high": float(w[len(w) - k]), "ci_coverage": coverage,
            "ci_attained": bool(coverage >= confidence - 1e-12), "ci_level": float(confidence)}


def signed_rank(d: np.ndarray, alternative: Alternative) -> tuple[float, float, str, int]:
    """The one-sided Wilcoxon signed-rank test of paired differences ``d`` (one per task) against
    0: ``(T⁺, p, method, n_nonzero)``. scipy's ``wilcoxon`` with zeros dropped (the ``wilcox``
    convention), exact null distribution up to 50 non-zero differences, the normal approximation
    beyond; no non-zero difference gives T⁺ = 0 and p = 1 (no evidence either way)."""
    from scipy.stats import wilcoxon

    nz = int(np.count_nonzero(d))
    if nz == 0:
        return 0.0, 1.0, "exact", 0
    method = "exact" if nz <= 50 else "approx"
    res = wilcoxon(d, alternative=alternative, zero_method="wilcox", method=method)
    return float(res.statistic), float(res.pvalue), method, nz


def wilcoxon_paired(a: Sequence[float], b: Sequence[float], *,
                    alternative: Alternative = "greater", confidence: float = 0.95,
                    level: float = 0.05) -> dict[str, Any]:
    """The augmentation study's statistic: a **one-sided** paired Wilcoxon signed-rank test of
    the relative AUROC ``a / b`` (e.g. AUC_aug / AUC_none on the same tasks) against 1.

    ``alternative="greater"`` (the default, the study's test): H1 is "a is better than b", so a
    small p means a *helps*. The study reads this one p-value both ways: p < ``level`` (0.05)
    → a significantly helps, p > 1 − ``level`` (0.95) → a significantly hurts; ``verdict``
    says which (``"helps"``, ``"hurts"`` or ``"no significant change"``; also the latter when
    every task is tied, where p = 1 carries no evidence of harm). ``alternative="less"`` is the
    mirror test (a smaller score is better).

    The test is scipy's ``wilcoxon`` on the differences ``a/b − 1`` (zeros dropped, the
    ``wilcox`` convention), with the exact null distribution for up to 50 non-zero differences
    and the normal approximation beyond. With n tasks the smallest one-sided p is 2⁻ⁿ (1/32 for
    n = 5; a two-sided test could not go below 0.0625 there). The ratio is summarised by its
    pseudomedian and exact confidence interval (:func:`hodges_lehmann`, on all n tasks).

    Returns ``alternative``, ``statistic`` (T⁺, the rank sum of the positive differences),
    ``pvalue``, ``method`` (``exact``/``approx``), ``pseudomedian``, ``ci_low``, ``ci_high``,
    ``ci_coverage``, ``ci_attained``, ``ci_level``, ``verdict``, ``n`` and ``n_nonzero``.
    """
    if alternative not in ("greater", "less"):
        raise BadDataError(f"The study's Wilcoxon test is one-sided: alternative must be "
                           f"'greater' or 'less', got {alternative!r}.")
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    if len(a) != len(b) or len(a) == 0:
        raise BadDataError("The Wilcoxon test needs two equally long, non-empty lists of AUROCs.")
    if not (np.isfinite(a).all() and np.isfinite(b).all()) or (b <= 0).any():
        raise BadDataError("Relative AUROCs need finite values and a positive baseline AUROC.")
    ratio = a / b
    d = ratio - 1.0
    stat, p, method, nz = signed_rank(d, alternative)
    if nz and p < level:
        verdict = "helps"
    elif nz and p > 1 - level:
        verdict = "hurts"
    else:
        verdict = "no significant change"
    return {"test": "one-sided Wilcoxon signed-rank", "alternative": alternative,
            "statistic": stat, "pvalue": p, "method": method, **hodges_lehmann(ratio, confidence),
            "verdict": verdict, "n": int(len(a)), "n_nonzero": nz}


def format_relative(s: dict[str, Any] | None, digits: int = 3) -> str:
    """``pseudomedian [CI] p=…`` of a :func:`wilcoxon_paired` result, for tables; the interval
    carries its coverage when the 95 % level is not attainable (n ≤ 5)."""
    if not s:
        return "–"
    cov = "" if s["ci_attained"] else f" ({100 * s['ci_coverage']:.1f} % CI)"
    tied = " (all tied)" if s.get("n_nonzero", 1) == 0 else ""
    return (f"{s['pseudomedian']:.{digits}f} [{s['ci_low']:.{digits}f}, {s['ci_high']:.{digits}f}]"
            f"{cov} p={s['pvalue']:.2g}{tied}")


def summary(y: np.ndarray, scores: np.ndarray, test_kind: Sequence[str] | None = None
            ) -> dict[str, object]:
    """AUROC, AUPR, F1 at contamination and (when given kinds) per-kind AUROC."""
    out: dict[str, object] = {"auroc": auroc(y, scores), "aupr": aupr(y, scores),
                              "f1": f1_at_contamination(y, scores),
                              "contamination": float(np.mean(y))}
    if test_kind is not None:
        out["per_kind_auroc"] = per_kind_auroc(test_kind, scores)
    return out


#: How every p-value of the app is named (issue 18): the test, its exactness, the unit of n.
STATISTIC = ("one-sided Wilcoxon signed-rank test (exact), n = {n} tasks; Hodges–Lehmann "
             "pseudomedian with exact 95 % CI")


def statistic_label(n: int, method: str = "exact") -> str:
    """The name of the statistic behind a p-value, with its n (tasks, never seeds × tasks)."""
    text = STATISTIC.format(n=int(n))
    return text if method == "exact" else text.replace("(exact)", "(normal approximation)")


def wilcoxon_difference(a: Sequence[float], b: Sequence[float], *,
                        alternative: Alternative = "greater", confidence: float = 0.95
                        ) -> dict[str, Any]:
    """One-sided Wilcoxon signed-rank test of the paired differences ``a − b`` (one value per
    task), with the Hodges–Lehmann pseudomedian of the differences and its exact confidence
    interval — the difference counterpart of :func:`wilcoxon_paired` (which tests the ratio
    ``a / b``), for claims whose effect is a difference (AUROC points, AUROC).

    Returns ``test``, ``alternative``, ``statistic``, ``pvalue``, ``method``, ``pseudomedian``,
    ``ci_low``, ``ci_high``, ``ci_coverage``, ``ci_attained``, ``ci_level``, ``n``,
    ``n_nonzero``.
    """
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    if len(a) != len(b) or len(a) == 0:
        raise BadDataError("The Wilcoxon test needs two equally long, non-empty lists.")
    d = a - b
    stat, p, method, nz = signed_rank(d, alternative)
    return {"test": "one-sided Wilcoxon signed-rank", "alternative": alternative,
            "statistic": stat, "pvalue": p, "method": method, **hodges_lehmann(d, confidence),
            "n": int(len(a)), "n_nonzero": nz}
