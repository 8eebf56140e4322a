"""The augmentation study's statistic (docs/methods.md §9): a one-sided Wilcoxon signed-rank test of
the relative AUROC against 1, its pseudomedian and exact confidence interval — against cases
computed by hand."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.stats import wilcoxon

from ad_core import metrics as M
from ad_core.errors import BadDataError


def test_five_tasks_all_better_give_the_smallest_one_sided_p_of_one_over_32():
    # 5 tasks, every augmentation AUROC above the baseline: T⁺ = 15 is the largest possible
    # value, reached by 1 of the 2⁵ sign patterns, so p = 1/32 = 0.03125 < 0.05. The old
    # two-sided test could only reach 2/32 = 0.0625 — never significant with 5 tasks.
    aug = [0.90, 0.80, 0.70, 0.95, 0.85]
    none = [0.80, 0.70, 0.60, 0.90, 0.80]
    assert M.wilcoxon_paired(aug, none)["pvalue"] == pytest.approx(1 / 32), "old: 0.0625"
    res = M.wilcoxon_paired(aug, none, alternative="greater")
    assert res["alternative"] == "greater" and res["test"] == "one-sided Wilcoxon signed-rank"
    assert res["statistic"] == 15 and res["n"] == 5 and res["method"] == "exact"
    assert res["pvalue"] == pytest.approx(1 / 32)
    assert res["verdict"] == "helps"


def test_the_one_p_value_is_read_both_ways():
    better, worse = [0.9, 0.8, 0.7, 0.95, 0.85, 0.75], [0.8, 0.7, 0.6, 0.9, 0.8, 0.7]
    hurt = M.wilcoxon_paired(worse, better)  # every task worse: T⁺ = 0, p = P(T⁺ ≥ 0) = 1
    assert hurt["pvalue"] == 1.0 and hurt["verdict"] == "hurts"
    assert M.wilcoxon_paired(better, worse)["pvalue"] == pytest.approx(1 / 64)
    mirror = M.wilcoxon_paired(worse, better, alternative="less")
    assert mirror["pvalue"] == pytest.approx(1 / 64) and mirror["verdict"] == "helps"
    tied = M.wilcoxon_paired(better, better)  # no evidence either way, though p = 1
    assert tied["pvalue"] == 1.0 and tied["verdict"] == "no significant change"
    assert tied["pseudomedian"] == 1.0 and tied["n_nonzero"] == 0


def test_hand_computed_six_task_case():
    # relative AUROCs 1 + d with d = .10, .20, −.04, .05, .30, .15 (no ties): ranks of |d| are
    # 3, 5, 1, 2, 6, 4; T⁺ = 21 − 1 = 20; P(T⁺ ≥ 20) = #{sign patterns with T⁺ ∈ {20, 21}} / 64
    # = 2/64. The 21 Walsh averages of d sorted: −.04, .005, .03, .05, .055, .075, .08, .10,
    # .10, .125, .125, … ; the 11th (the median) is .125. For n = 6, P(T⁺ ≤ 0) = 1/64 ≤ .025 <
    # P(T⁺ ≤ 1) = 2/64, so k = 1: the 95 % interval is [min, max] with coverage 1 − 2/64.
    d = np.array([0.10, 0.20, -0.04, 0.05, 0.30, 0.15])
    none = np.full(6, 0.8)
    res = M.wilcoxon_paired(none * (1 + d), none)
    assert res["statistic"] == pytest.approx(20)
    assert res["pvalue"] == pytest.approx(2 / 64)
    assert res["pseudomedian"] == pytest.approx(1.125)
    assert (res["ci_low"], res["ci_high"]) == (pytest.approx(0.96), pytest.approx(1.30))
    assert res["ci_coverage"] == pytest.approx(1 - 2 / 64) and res["ci_attained"]


def test_the_interval_uses_the_signed_rank_critical_value():
    # n = 10: P(T⁺ ≤ 8) = 25/1024 ≤ 0.025 < P(T⁺ ≤ 9) = 33/1024 (the table's critical value 8),
    # so the interval is [W₍₉₎, W₍₄₇₎] of the 55 ordered Walsh averages.
    x = np.array([0.3, -1.2, 2.5, 0.8, 1.9, -0.4, 3.3, 1.1, 0.05, 2.2])
    walsh = sorted((x[i] + x[j]) / 2 for i, j in itertools.combinations_with_replacement(range(10), 2))
    hl = M.hodges_lehmann(x)
    assert hl["pseudomedian"] == pytest.approx(np.median(walsh))
    assert (hl["ci_low"], hl["ci_high"]) == (pytest.approx(walsh[8]), pytest.approx(walsh[46]))
    assert hl["ci_coverage"] == pytest.approx(1 - 2 * 25 / 1024) and hl["ci_attained"]
    null = M.signed_rank_null(10)
    assert null.sum() == pytest.approx(1) and len(null) == 56
    assert null[:9].sum() == pytest.approx(25 / 1024) and null[:10].sum() == pytest.approx(33 / 1024)


def test_small_n_reports_the_widest_interval_and_its_real_coverage():
    # n = 5: P(T⁺ = 0) = 1/32 > 0.025, so no 95 % interval exists; the widest one, [min, max],
    # covers 1 − 2/32 = 93.75 %.
    hl = M.hodges_lehmann([1.02, 0.97, 1.10, 1.05, 1.01])
    assert (hl["ci_low"], hl["ci_high"]) == (pytest.approx(0.97), pytest.approx(1.10))
    assert hl["ci_coverage"] == pytest.approx(0.9375) and not hl["ci_attained"]
    assert "93.8 % CI" in M.format_relative(M.wilcoxon_paired([1.02, 0.97, 1.10, 1.05, 1.01],
                                                              [1.0] * 5))


def test_p_value_agrees_with_scipy_one_sided_and_not_two_sided():
    rng = np.random.default_rng(0)
    b = rng.uniform(0.6, 0.9, 12)
    a = b * rng.uniform(0.97, 1.08, 12)
    res = M.wilcoxon_paired(a, b)
    ref = wilcoxon(a / b - 1, alternative="greater")
    assert res["pvalue"] == pytest.approx(ref.pvalue)
    assert res["pvalue"] != pytest.approx(wilcoxon(a / b - 1).pvalue)


def test_bad_inputs():
    with pytest.raises(BadDataError):
        M.wilcoxon_paired([0.9, 0.8], [0.8])
    with pytest.raises(BadDataError, match="one-sided"):
        M.wilcoxon_paired([0.9, 0.8], [0.8, 0.7], alternative="two-sided")  # type: ignore[arg-type]
    with pytest.raises(BadDataError):
        M.wilcoxon_paired([0.9], [0.0])
