"""CAE-OC-SVM: a one-class SVM on a trained autoencoder's latent codes (METHODS.md §6).

The GeoTrans paper's baseline: train a convolutional AE on the normals (exactly the ``ae``
detector), then fit an RBF one-class SVM (exactly the ``ocsvm`` detector, on standardised columns)
to the latent codes z of the training normals. Score = the OC-SVM's anomaly score of z(x).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np
import torch

from ad_core.detectors.ae import AEDetector
from ad_core.detectors.base import ParamSpec, TrainingMonitor
from ad_core.detectors.classical import OCSVMDetector


class CAEOCSVMDetector(AEDetector):
    """One-class SVM (RBF) on the latent codes of an autoencoder trained on the normals.

    Parameters: the AE's (network, training) plus ``nu`` and ``gamma`` of the OC-SVM.
    ``embed`` returns the latent codes; ``explain`` the AE's reconstructions and codes.
    """

    name = "cae_ocsvm"
    title = "CAE-OC-SVM (OC-SVM on AE codes)"
    paper = "Baseline of Golan & El-Yaniv 2018 (GeoTrans), after Schölkopf et al. 2001"
    summary = "An autoencoder compresses the images; a one-class SVM bounds the normal codes."
    params: ClassVar = (
        *AEDetector.params,
        ParamSpec("nu", "float", 0.1, "OC-SVM: upper bound on the fraction of training outliers.",
                  1e-3, 1.0),
        ParamSpec("gamma", "choice", "scale", "OC-SVM RBF width: 'scale' = 1/(D·var).",
                  choices=("scale", "auto")),
    )
    presets: ClassVar = {"quick": dict(AEDetector.presets["quick"]),
                         "paper": dict(AEDetector.presets["paper"])}

    def _svm_params(self) -> dict[str, Any]:
        p = self.params_
        return {"nu": p["nu"], "gamma": p["gamma"], "contamination": p["contamination"],
                "seed": p["seed"], "standardize": "yes"}

    def _codes_task(self, task: Any) -> SimpleNamespace:
        return SimpleNamespace(modality="tabular", dataset=task.dataset,
                               train_x=torch.from_numpy(self._embed(task.train_x)),
                               val_x=torch.from_numpy(self._embed(task.val_x)))

    def _fit(self, task: Any, monitor: TrainingMonitor) -> None:
        super()._fit(task, monitor)
        self.svm_ = OCSVMDetector(**self._svm_params()).fit(self._codes_task(task))

    def _score(self, x: torch.Tensor) -> np.ndarray:
        return self.svm_.decision_function(self._embed(x))

    def _state_tensors(self) -> dict[str, torch.Tensor]:
        t = super()._state_tensors()
        t.update({f"svm.{k}": v for k, v in self.svm_._state_tensors().items()})
        return t

    def _restore(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        super()._restore(tensors, state)
        svm = OCSVMDetector(**self._svm_params())
        svm.params_ = svm.resolve_params()
        svm.input_shape_ = (self.net_.latent_dim,)
        svm.modality_ = "tabular"
        svm._restore(self._sub(tensors, "svm."), {})
        self.svm_ = svm


DETECTORS = {CAEOCSVMDetector.name: CAEOCSVMDetector}
