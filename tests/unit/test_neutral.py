"""NeuTraL AD: the deterministic contrastive loss, the nets, and the detector (docs/methods.md §6)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ad_core.detectors import make_detector
from ad_core.detectors.base import Detector
from ad_core.detectors.neutral import NeuTraLADDetector, dcl_loss
from ad_core.errors import UserError
from ad_core.experiment import fit_task
from ad_core.metrics import auroc
from ad_core.nets.neutral_nets import (
    TRANSFORM_TYPES,
    NeutralNet,
    image_neutral_net,
    tabular_neutral_net,
)


def _slow_dcl(z: torch.Tensor, tau: float) -> torch.Tensor:
    """Reference DCL with Python loops: ℓ_k = log Σ_{l≠k} h(k,l) − log h(k,0), h = exp(cos/τ)."""
    n, kp1, _ = z.shape
    out = torch.zeros(n, kp1 - 1, dtype=torch.float64)
    for i in range(n):
        for k in range(1, kp1):
            def h(a: int, b: int, i: int = i) -> float:
                za, zb = z[i, a].double(), z[i, b].double()
                return math.exp(float(za @ zb / (za.norm() * zb.norm())) / tau)
            den = sum(h(k, l) for l in range(kp1) if l != k)
            out[i, k - 1] = math.log(den) - math.log(h(k, 0))
    return out


@pytest.mark.parametrize("tau", [1.0, 0.1])
def test_dcl_equals_slow_loop_on_random_embeddings(tau: float) -> None:
    z = torch.randn(5, 7, 4, generator=torch.Generator().manual_seed(1))
    fast = dcl_loss(z, tau).double()
    assert fast.shape == (5, 6)
    torch.testing.assert_close(fast, _slow_dcl(z, tau), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(dcl_loss(z, tau, scale=True).double(), fast / (6 * math.log(6)))


@pytest.mark.parametrize("k", [2, 5, 11])
def test_identity_edge_case_gives_k_log_k(k: int) -> None:
    z = torch.randn(3, 1, 8).repeat(1, k + 1, 1)  # T_k(x) = x for every k
    torch.testing.assert_close(dcl_loss(z, 1.0).sum(1), torch.full((3,), k * math.log(k)))
    torch.testing.assert_close(dcl_loss(z, 1.0, scale=True).sum(1), torch.ones(3))


def test_k2_counterexample_beats_identity() -> None:
    e0, e1 = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0])
    z = torch.stack([e0, e1, -e1])[None]  # z1 ⊥ z, z2 ⊥ z, z1 = −z2
    loss = float(dcl_loss(z, 1.0).sum())
    assert loss == pytest.approx(0.627, abs=1e-3)
    assert loss == pytest.approx(2 * math.log(1 + math.exp(-1)), abs=1e-6)
    assert loss < 2 * math.log(2)


# ---------------------------------------------------------------------------------- nets vs loops
def _slow_views(net: NeutralNet, x: torch.Tensor) -> list[list[torch.Tensor]]:
    """T_k(x_i) one sample and one member network M_k at a time, from the paper's formulas."""
    bank = net.transforms
    out = []
    for i in range(len(x)):
        xi = x[i:i + 1]
        row = []
        for k in range(bank.n_transforms):
            m = bank.member(k).eval()(xi)
            m = m[:, 0] if net.image else m
            if net.transform_type == "feedforward":
                v = torch.tanh(m) if net.image else m
            elif net.transform_type == "residual":
                v = m + xi
            else:
                v = torch.sigmoid(m) * xi
            row.append(v)
        out.append(row)
    return out


def _slow_loss(net: NeutralNet, x: torch.Tensor, tau: float) -> torch.Tensor:
    """The full per-sample DCL, Σ_k ℓ_k(x), with Python loops over samples and views."""
    views = _slow_views(net, x)
    losses = []
    for i in range(len(x)):
        zs = [net.encoder(x[i:i + 1])[0]] + [net.encoder(v)[0] for v in views[i]]
        losses.append(_slow_dcl(torch.stack(zs)[None], tau)[0].sum())
    return torch.stack(losses)


@pytest.mark.parametrize("transform_type", TRANSFORM_TYPES)
@pytest.mark.parametrize("image", [False, True])
def test_dcl_of_network_equals_slow_loop(transform_type: str, image: bool) -> None:
    torch.manual_seed(0)
    if image:
        net = image_neutral_net((1, 8, 8), 3, transform_type, z_dim=8, batch_norm=False).eval()
        x = torch.rand(3, 1, 8, 8)
    else:
        net = tabular_neutral_net(5, 4, transform_type, hidden=8, z_dim=6, trans_hidden=7,
                                  batch_norm=False).eval()
        x = torch.randn(4, 5)
    with torch.no_grad():
        fast = dcl_loss(net(x), 0.5).sum(1).double()
        views, masks = net.views(x)
        slow_views = _slow_views(net, x)
        torch.testing.assert_close(views[1, 2], slow_views[1][2][0], rtol=1e-5, atol=1e-6)
        assert (masks is not None) == (transform_type == "multiplicative")
        torch.testing.assert_close(fast, _slow_loss(net, x, 0.5), rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------------- detector
def _task(dataset: str, normal: str, **kw):
    from ad_core.data import load_dataset
    from ad_core.tasks import one_vs_rest

    return one_vs_rest(load_dataset(dataset), normal, seed=0, **kw)


@pytest.fixture(scope="module")
def table_fit():
    task = _task("breast_cancer", "benign")
    det = fit_task(NeuTraLADDetector(epochs=40, seed=0), task)
    return det, task


@pytest.fixture(scope="module")
def image_fit():
    task = _task("digits", "0")
    det = fit_task(NeuTraLADDetector(n_transforms=3, epochs=4, batch_size=32, seed=0), task)
    return det, task


def test_beats_chance_on_breast_cancer(table_fit) -> None:
    det, task = table_fit
    assert auroc(task.test_y, det.decision_function(task.test_x)) > 0.8
    assert det.params_["preprocess"] == "scale" and det.params_["n_transforms"] == 11
    assert len(det.history_["loss"]) == 40 * 2 and det.history_["val"]


def test_beats_chance_on_digits(image_fit) -> None:
    det, task = image_fit
    assert auroc(task.test_y, det.decision_function(task.test_x)) > 0.7


@pytest.mark.parametrize("which", ["table_fit", "image_fit"])
def test_explain_contributions_sum_to_score(which: str, request) -> None:
    det, task = request.getfixturevalue(which)
    x = task.test_x[:12]
    ex = det.explain(x)
    k = det.params_["n_transforms"]
    assert ex["score_terms"].shape == (12, k)
    assert list(ex["score_term_names"]) == [f"T{i + 1}" for i in range(k)]
    assert str(ex["score_aggregation"]) == "sum"
    np.testing.assert_allclose(ex["score_terms"].sum(1), det.decision_function(x), rtol=1e-5,
                               atol=1e-6)
    assert ex["views"].shape == (12, k, *x.shape[1:])
    assert list(ex["view_names"]) == list(ex["score_term_names"])
    assert ex["embeddings"].shape[:2] == (12, k + 1)
    np.testing.assert_allclose(np.linalg.norm(ex["embeddings"], axis=-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(ex["latent"], det.embed(x), rtol=1e-5, atol=1e-6)
    if det.params_["transform_type"] == "multiplicative":
        assert ex["masks"].shape == ex["views"].shape
        assert ((ex["masks"] > 0) & (ex["masks"] < 1)).all()
    else:
        assert "masks" not in ex


def test_multiplicative_table_views_are_masked_inputs() -> None:
    task = _task("breast_cancer", "benign")
    det = fit_task(NeuTraLADDetector(transform_type="multiplicative", n_transforms=3, epochs=2,
                                     preprocess="features", seed=1), task)
    x = task.test_x[:5]
    ex = det.explain(x)
    # views are reported in input units: shift + σ(M(x)) ⊙ (x − shift)
    shift = det.shift_.numpy()
    np.testing.assert_allclose(ex["views"], shift + ex["masks"] * (x.numpy() - shift)[:, None],
                               rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("which", ["table_fit", "image_fit"])
def test_save_load_identical_scores(which: str, request, tmp_path) -> None:
    det, task = request.getfixturevalue(which)
    det.save(tmp_path)
    again = Detector.load(tmp_path)
    assert isinstance(again, NeuTraLADDetector)
    np.testing.assert_array_equal(again.decision_function(task.test_x),
                                  det.decision_function(task.test_x))
    assert again.threshold_ == det.threshold_


@pytest.mark.parametrize("params", [{"n_transforms": 1}, {"transform_type": "rotate"}, {"tau": 0},
                                    {"lr": -1}, {"preprocess": "minmax"}, {"epochs": 0}])
def test_bad_params_raise_user_error(params) -> None:
    task = _task("breast_cancer", "benign")
    with pytest.raises(UserError):
        fit_task(NeuTraLADDetector(**params), task)


def test_unknown_param_and_dcl_misuse_raise_user_error() -> None:
    with pytest.raises(UserError):
        make_detector("neutral", hidden_size=3)
    with pytest.raises(UserError):
        dcl_loss(torch.randn(2, 1, 3), 0.1)
    with pytest.raises(UserError):
        dcl_loss(torch.randn(2, 3, 3), 0.0)


def test_presets_follow_the_papers_configs() -> None:
    thy = NeuTraLADDetector.preset_params("paper", "thyroid", (6,))
    assert (thy["transform_type"], thy["hidden"], thy["latent_dim"], thy["trans_hidden"]) == (
        "residual", 24, 24, 24)
    arr = NeuTraLADDetector.preset_params("paper", "arrhythmia", (274,))
    assert arr["batchnorm"] and arr["trans_hidden"] == 200 and arr["lr"] == 5e-4
    kdd = NeuTraLADDetector.preset_params("paper", "kddcup99", (120,))
    assert kdd["transform_type"] == "multiplicative" and kdd["batch_size"] == 1000
    img = NeuTraLADDetector.preset_params("paper", "fashion_mnist", (1, 28, 28))
    assert (img["n_transforms"], img["epochs"], img["batch_size"]) == (15, 20, 512)
    assert NeuTraLADDetector.preset_params("quick", "thyroid", (6,))["epochs"] == 100
