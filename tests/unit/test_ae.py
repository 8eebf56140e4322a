"""Plain AE and the shared reconstruction plumbing: nets, preprocessing, fit/score/save/load."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ad_core import metrics as M
from ad_core.detectors import Detector, make_detector
from ad_core.errors import BadParameterError, UserError
from ad_core.experiment import fit_task
from ad_core.nets import conv_ae as nets
from ad_core.nets.preprocess import InputTransform

FAST = {"epochs": 25, "batch_size": 16}


@pytest.fixture(scope="module")
def iforest_auc(task8):
    det = fit_task(make_detector("iforest"), task8)
    return M.auroc(task8.test_y, det.decision_function(task8.test_x))


@pytest.fixture(scope="module")
def fitted_ae(task8):
    return fit_task(make_detector("ae", "quick", **FAST), task8)


def test_ae_beats_iforest_on_digits(fitted_ae, task8, iforest_auc):
    auc = M.auroc(task8.test_y, fitted_ae.decision_function(task8.test_x))
    assert auc > iforest_auc, f"AE {auc:.3f} vs IsolationForest {iforest_auc:.3f}"
    h = fitted_ae.history_
    assert len(h["loss"]) == 25 * (len(task8.train_x) // 16)
    assert h["val"] and h["best_step"][0] in h["val_step"]


def test_ae_explain_embed_and_reload(fitted_ae, task8, tmp_path):
    x = task8.test_x[:7]
    ex = fitted_ae.explain(x)
    assert ex["reconstruction"].shape == tuple(x.shape)
    assert ex["error_map"].shape == tuple(x.shape)
    assert ex["reconstruction"].min() >= 0.0 and ex["reconstruction"].max() <= 1.0
    assert ex["latent"].shape == (7, 32) and ex["latent_norm"].shape == (7,)
    # the MSE score is the mean of the error map (preprocess=none: model space = input space)
    np.testing.assert_allclose(ex["error_map"].reshape(7, -1).mean(1),
                               fitted_ae.decision_function(x), rtol=1e-5)
    np.testing.assert_allclose(fitted_ae.embed(x), ex["latent"], rtol=1e-5, atol=1e-6)
    fitted_ae.save(tmp_path / "ae")
    again = Detector.load(tmp_path / "ae")
    np.testing.assert_array_equal(again.decision_function(task8.test_x),
                                  fitted_ae.decision_function(task8.test_x))


def test_ae_on_a_table_standardises_and_beats_chance(tabular_task, tmp_path):
    det = fit_task(make_detector("ae", "quick", epochs=20, batch_size=32), tabular_task)
    assert det.arch_ == "mlp" and det.prep_mode_ == "features"
    auc = M.auroc(tabular_task.test_y, det.decision_function(tabular_task.test_x))
    assert auc > 0.75
    det.save(tmp_path / "t")
    again = Detector.load(tmp_path / "t")
    np.testing.assert_array_equal(again.decision_function(tabular_task.test_x),
                                  det.decision_function(tabular_task.test_x))


@pytest.mark.parametrize("params, err", [({"error": "l3"}, BadParameterError),
                                         ({"latent_dim": 0}, BadParameterError),
                                         ({"arch": "mlp"}, BadParameterError),
                                         ({"preprocess": "features"}, BadParameterError),
                                         ({"arch": "toll_cifar"}, BadParameterError)])
def test_bad_parameters_raise_user_errors(task8, params, err):
    with pytest.raises(err):
        fit_task(make_detector("ae", "quick", epochs=1, **params), task8)
    assert issubclass(err, UserError)


@pytest.mark.parametrize("build, shape, z", [
    (lambda: nets.toll_mnist_ae((1, 28, 28), 128), (1, 28, 28), 128),
    (lambda: nets.toll_cifar_ae((3, 32, 32), 64), (3, 32, 32), 64),
    (lambda: nets.dae_paper_ae((1, 32, 32), 256), (1, 32, 32), 256),
    (lambda: nets.lisae_ae((1, 28, 28), 32), (1, 28, 28), 32),
    (lambda: nets.conv_ae((3, 27, 31), 8), (3, 27, 31), 8),
    (lambda: nets.mlp_ae(274, 16), (274,), 16),
])
def test_paper_networks_map_inputs_back_to_their_shape(build, shape, z):
    net = build().eval()
    x = torch.rand(2, *shape)
    x_hat, code = net(x)
    assert x_hat.shape == x.shape and code.shape == (2, z)
    assert isinstance(net.latent, nets.LatentLayer)
    assert net.latent_pre(x).shape == (2, z)


def test_toll_architectures_follow_appendix_b():
    mnist = nets.toll_mnist_ae()
    convs = [m for m in mnist.encoder if isinstance(m, torch.nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs] == [
        (64, 4, 1), (128, 4, 1), (256, 4, 2), (512, 4, 1), (64, 4, 1)]
    assert mnist.latent.fc.in_features == 1024
    cifar = nets.toll_cifar_ae()
    assert isinstance(cifar.decoder[-1], nets.OutputBias)
    assert cifar.decoder[-1].bias.shape == (3, 32, 32)
    dae = nets.dae_paper_ae()
    assert [m.out_channels for m in dae.encoder if isinstance(m, torch.nn.Conv2d)] == [64, 128, 256, 512]
    assert isinstance(dae.latent.act, torch.nn.Tanh)


@pytest.mark.parametrize("mode, resize", [("standardize", None), ("gcn", None), ("none", (32, 32)),
                                          ("gcn", (32, 32))])
def test_preprocessing_inverse_recovers_the_input(mode, resize):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(6, 3, 16, 16, generator=g)
    t = InputTransform(mode, (3, 16, 16), resize).fit(x)
    y = t(x)
    assert y.shape[2:] == (resize or (16, 16))
    back = t.inverse(y, x)
    tol = 0.15 if resize else 1e-5  # bilinear up- then down-sampling is not exactly invertible
    assert back.shape == x.shape
    assert float((back - x).abs().mean()) < tol
    if mode == "standardize":
        assert abs(float(y.mean())) < 1e-5 and abs(float(y.std()) - 1) < 1e-3
    if mode == "gcn":
        assert float(y.min()) >= -1e-6 and float(y.max()) <= 1 + 1e-6


def test_cae_ocsvm_scores_latent_codes_and_reloads(task8, tmp_path):
    from ad_core.detectors.cae_ocsvm import CAEOCSVMDetector

    det = fit_task(CAEOCSVMDetector(epochs=10, batch_size=16), task8)
    s = det.decision_function(task8.test_x)
    assert M.auroc(task8.test_y, s) > 0.7
    np.testing.assert_allclose(s, det.svm_.decision_function(det.embed(task8.test_x)))
    det.save(tmp_path / "cae")
    np.testing.assert_array_equal(CAEOCSVMDetector.load(tmp_path / "cae").decision_function(task8.test_x), s)
