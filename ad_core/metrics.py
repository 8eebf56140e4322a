"""Evaluation metrics (METHODS.md §7). Anomaly = positive class; scores: higher = more anomalous."""

from __future__ import annotations

from collections.abc import Sequence

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


def wilcoxon_paired(a: Sequence[float], b: Sequence[float]) -> dict[str, float]:
    """Paired Wilcoxon signed-rank test of ``a`` vs ``b`` across tasks (two-sided, scipy).

    Returns the statistic, the p-value and the median of ``a/b`` (the study's relative AUROC)
    with a bootstrap-free 95 % interval from the order statistics of the ratios.
    """
    from scipy.stats import wilcoxon

    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if len(a) != len(b) or len(a) == 0:
        raise BadDataError("The Wilcoxon test needs two equally long, non-empty lists of AUROCs.")
    ratio = a / b
    lo, hi = np.quantile(ratio, [0.025, 0.975])
    if np.allclose(a, b):
        stat, p = 0.0, 1.0
    else:
        res = wilcoxon(a, b)
        stat, p = float(res.statistic), float(res.pvalue)
    return {"statistic": stat, "pvalue": p, "median_ratio": float(np.median(ratio)),
            "ratio_lo": float(lo), "ratio_hi": float(hi), "n": int(len(a))}


def summary(y: np.ndarray, scores: np.ndarray, test_kind: Sequence[str] | None = None
            ) -> dict[str, object]:
    """AUROC, AUPR, F1 at contamination and (when given kinds) per-kind AUROC."""
    out: dict[str, object] = {"auroc": auroc(y, scores), "aupr": aupr(y, scores),
                              "f1": f1_at_contamination(y, scores),
                              "contamination": float(np.mean(y))}
    if test_kind is not None:
        out["per_kind_auroc"] = per_kind_auroc(test_kind, scores)
    return out
