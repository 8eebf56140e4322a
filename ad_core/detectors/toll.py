"""Toll — targeted collapse regularised autoencoder (docs/methods.md §3; Ghafourian et al. 2023).

``targeted_collapse``: the training loss adds to the reconstruction error the norm of the latent
code, L = mean‖x̂ − x‖₂ + β · mean‖z‖_p (both norms non-squared), so normal data collapse toward
the origin while reconstruction keeps the code informative. The anomaly score is the same
combination per sample, s(x) = ‖x̂ − x‖₂ + β‖z‖_p; ``explain`` returns the two terms as
``score_terms`` (aggregation ``sum``). β = 0 is the plain AE with the l2 error.

Inputs on MNIST/Fashion-MNIST are standardised with the *dataset's* pixel mean and standard
deviation (its training split, all classes: ``data.dataset_stats``), not the normal class's — per
class statistics would change the effective β per class (``standardize_with=normals`` offers
them explicitly). Training follows the paper: random batches for a number of iterations (drawn
from shuffled passes, so no sample repeats within an epoch; a batch above the training-set size
is one full batch), a checkpoint considered every 20 iterations. The checkpoint is chosen by
the validation-normal loss (``select=best``, default, no labels), or the last weights
(``select=last``), or — to reproduce the paper's tables, which selected by AUROC on a
validation set containing labelled anomalies — ``select=labelled_val``: AUROC on the
validation normals against held-out anomalies drawn from the *training* split of the other
classes (never the test set), which the experiment passes to ``fit`` as ``negatives``. The run
records the rule it trained with (``history_['select']``).

Older runs had two parameters, ``select`` (best/last) and ``selection`` (val_loss/labelled_val),
and recorded ``history_['selection']``. They load through one mechanism, the ``select``
:class:`~ad_core.contracts.ParamSpec`'s older name and value (``selection``, ``val_loss`` →
``best``), read by :meth:`ad_core.detectors.base.Detector.canonical_params`.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import torch

from ad_core.contracts import FitData, NegativesRequest, ParamSpec
from ad_core.detectors.ae import (
    COMMON_PARAMS,
    P_CONT,
    P_SEED,
    P_SELECT,
    ReconstructionDetector,
)
from ad_core.errors import BadParameterError
from ad_core.nets.terms import latent_norm, targeted_collapse
from ad_core.nets.terms import reconstruction_error as _rec

P_NORMS = {"1": 1.0, "2": 2.0, "inf": math.inf}

# Paper hyper-parameters per dataset (docs/methods.md §3; the paper's §4.1 and App. B): batch, β,
# z, lr, network.
TOLL_PAPER = {
    "mnist": {"batch_size": 1000, "beta": 1000.0, "latent_dim": 128, "lr": 1e-4, "arch": "toll_mnist"},
    "fmnist": {"batch_size": 500, "beta": 100.0, "latent_dim": 256, "lr": 1e-4, "arch": "toll_mnist"},
    "cifar10": {"batch_size": 50, "beta": 10.0, "latent_dim": 64, "lr": 1e-2, "arch": "toll_cifar"},
    "cifar100": {"batch_size": 100, "beta": 100.0, "latent_dim": 64, "lr": 1e-3, "arch": "toll_cifar"},
    "arrhythmia": {"batch_size": 100, "beta": 10.0, "latent_dim": 16, "lr": 1e-3, "arch": "mlp",
                   "width": 128},
}


def paper_setting(dataset: str | None, input_shape: tuple[int, ...] | None) -> str:
    """Which of the paper's settings applies: by dataset name, else by input shape."""
    name = (dataset or "").lower().replace("-", "").replace("_", "")
    if "fashion" in name or "fmnist" in name:
        return "fmnist"
    if "cifar100" in name:
        return "cifar100"
    if "cifar" in name:
        return "cifar10"
    if "mnist" in name:
        return "mnist"
    if "arrhythmia" in name:
        return "arrhythmia"
    if input_shape is not None and len(input_shape) == 1:
        return "arrhythmia"
    if input_shape is not None and len(input_shape) == 3 and input_shape[0] == 3:
        return "cifar10"
    return "mnist"


#: Toll's checkpoint rule. ``selection`` (val_loss/labelled_val) is its older name: runs written
#: before issue 10 stored it beside ``select`` (best/last), and there its ``labelled_val`` decides
#: (:meth:`ad_core.contracts.ParamSpec.older_value_decides`).
P_TOLL_SELECT = ParamSpec(
    "select", "choice", "best", "Checkpoint kept: best = lowest validation-normal loss (no "
    "labels); last = final weights; labelled_val = best AUROC against labelled anomalies from "
    "the training split (the paper's protocol, uses labels).",
    choices=("best", "last", "labelled_val"), aliases=("selection",),
    value_aliases=(("val_loss", "best"),))


class TollDetector(ReconstructionDetector):
    """Toll (targeted collapse): an AE whose loss and score add β·‖z‖_p to ‖x̂ − x‖₂.

    Parameters (beyond the AE's network and training ones): ``beta`` (≥ 0; 0 = plain AE),
    ``p`` (1, 2 or inf: the latent norm), ``select`` (best = lowest validation-normal loss, the
    default; last; labelled_val = the paper's labelled-anomaly AUROC, explicit),
    ``n_val_anomalies``.
    Presets: ``quick`` (small conv AE with BatchNorm, standardised pixels, z = 128, β = 1000,
    400 random batches of 64, Adam 5e-4); ``paper`` (appendix
    B: 2000 iterations, checkpoint every 20, per-dataset batch/β/z/lr and network).
    """

    name = "toll"
    title = "Toll (targeted collapse AE)"
    paper = "Targeted collapse regularized autoencoder for anomaly detection (Toll)"
    summary = "Reconstruction error plus β × latent norm: normals collapse to the origin."
    explains: ClassVar = ("reconstruction", "error_map", "latent", "latent_norm", "score_terms",
                          "score_term_names", "score_aggregation")
    params: ClassVar = (
        *(P_TOLL_SELECT if p is P_SELECT else p for p in COMMON_PARAMS),
        ParamSpec("beta", "float", 1.0, "β: weight of the latent-norm term (0 = plain AE).", 0.0,
                  1e6),
        ParamSpec("p", "choice", "2", "Latent norm: 1, 2 or inf.", choices=("1", "2", "inf")),
        ParamSpec("n_val_anomalies", "int", 200, "Labelled anomalies for select=labelled_val.",
                  2, 100000, advanced=True),
        ParamSpec("standardize_with", "choice", "dataset", "Statistics of preprocess="
                  "standardize: dataset = one pixel mean/std of the dataset's training split "
                  "(all classes, as the paper); normals = of the normal training images only "
                  "(changes the effective β per class).", choices=("dataset", "normals"),
                  advanced=True),
        P_CONT, P_SEED,
    )
    presets: ClassVar = {
        "quick": {"arch": "conv", "batchnorm": True, "preprocess": "standardize", "latent_dim": 128,
                  "width": 16, "iterations": 400, "batch_size": 64, "lr": 5e-4, "beta": 1000.0,
                  "eval_every": 20},
        "paper": {"iterations": 2000, "eval_every": 20, "select": "best"},
    }

    @classmethod
    def dataset_preset(cls, preset: str, dataset: str | None,
                       input_shape: tuple[int, ...] | None) -> dict[str, Any]:
        if preset != "paper":
            if input_shape is not None and len(input_shape) == 1:  # tables: MLP, per-column scaling
                return {"arch": "mlp", "preprocess": "features", "latent_dim": 16, "width": 64,
                        "beta": 10.0, "batch_size": 32}
            return {}
        setting = paper_setting(dataset, input_shape)
        out = dict(TOLL_PAPER[setting])
        if setting.startswith("cifar") and input_shape is not None and tuple(input_shape[1:]) != (32, 32):
            out["resize"] = 32
        return out

    def _setup(self, data: FitData) -> torch.Generator:
        """As the AE's, but ``standardize`` uses the dataset's training-split pixel mean and std
        (``data.dataset_stats``) when ``standardize_with=dataset`` (docs/methods.md §3, §8)."""
        gen = super()._setup(data)
        stats = data.dataset_stats
        self.standardization_ = "none"
        if self.prep_mode_ == "standardize":
            if self.params_["standardize_with"] == "dataset" and stats:
                self.prep_.mean.fill_(float(stats["pixel_mean"]))
                self.prep_.std.fill_(max(float(stats["pixel_std"]), 1e-8))
                self.standardization_ = "dataset training split"
            else:
                self.standardization_ = "normal training images"
        return gen

    @property
    def norm_p(self) -> float:  # type: ignore[override]
        return P_NORMS[str(self.params_["p"])]

    def _error_kind(self) -> str:
        return "l2"

    def sample_loss(self, xm: torch.Tensor, x_hat: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        rec, reg = targeted_collapse(x_hat, xm, z, float(self.params_["beta"]), self.norm_p)
        return rec + reg

    def negatives_request(self) -> NegativesRequest | None:
        """``select=labelled_val`` asks for labelled anomalies from the training split."""
        p = self.preview_params("select", "n_val_anomalies", "seed")
        if p["select"] != "labelled_val":
            return None
        return NegativesRequest("labelled-anomalies", seed=int(p["seed"]),
                                n=int(p["n_val_anomalies"]))

    def loop_select(self) -> str:
        """``labelled_val`` keeps the best weights by its own criterion (below)."""
        select = str(self.params_["select"])
        return "best" if select == "labelled_val" else select

    def validation_criterion(self, data: FitData) -> Any:
        self.history_["select"] = [str(self.params_["select"])]
        if self.params_["select"] != "labelled_val":
            return super().validation_criterion(data)
        from ad_core.metrics import auroc

        anomalies = data.negatives_x
        if anomalies is None or len(anomalies) == 0:
            raise BadParameterError("select=labelled_val needs labelled anomalies: pass them as "
                                    "fit(..., negatives=...) (the experiment draws them from the "
                                    "dataset's training split, never the test set).")
        xv = torch.cat([data.val_x, anomalies])
        yv = np.r_[np.zeros(len(data.val_x)), np.ones(len(anomalies))]
        self.n_labelled_val_ = len(anomalies)
        return lambda: 1.0 - auroc(yv, self._per_sample(xv).numpy())

    def _explain(self, x: torch.Tensor) -> dict[str, Any]:
        out = self._reconstruct(x)
        z = torch.from_numpy(out["latent"])
        norm = latent_norm(z, self.norm_p).numpy()
        rec = self._rec_only(x)
        out["latent_norm"] = norm
        out["score_terms"] = np.stack([rec, float(self.params_["beta"]) * norm], 1).astype(np.float64)
        out["score_term_names"] = np.array(["reconstruction", "β·latent norm"])
        out["score_aggregation"] = np.array("sum")
        return out

    def _rec_only(self, x: torch.Tensor) -> np.ndarray:
        self.net_.eval()

        def fn(xb: torch.Tensor) -> torch.Tensor:
            o = self._forward_parts(self.net_, xb)
            return _rec(o["x_hat"], o["xm"], "l2")

        return self._predict(fn, x).numpy().astype(np.float64)

    def _predict(self, fn: Any, x: torch.Tensor) -> torch.Tensor:
        from ad_core.train import predict_batches

        return predict_batches(fn, x, self.device_)

    def _state_json(self) -> dict[str, Any]:
        return {**super()._state_json(),
                "n_labelled_val": getattr(self, "n_labelled_val_", 0),
                "standardization": getattr(self, "standardization_", "")}
