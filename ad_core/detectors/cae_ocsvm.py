"""CAE-OC-SVM: a one-class SVM on a trained autoencoder's latent codes (docs/methods.md §7).

The GeoTrans paper's baseline: train a convolutional AE on the normals (exactly the ``ae``
detector), then fit an RBF one-class SVM (exactly the ``ocsvm`` detector, on standardised columns)
to the latent codes z of the training normals. Score = the OC-SVM's anomaly score of z(x).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from ad_core.contracts import FitData, ParamSpec, TrainingMonitor
from ad_core.detectors.ae import AEDetector
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
                "seed": p["seed"], "preprocess": "features"}

    def _interim_state(self, train_x: torch.Tensor) -> list[str]:
        """Mid-training: the OC-SVM fitted to the codes of ``train_x`` under the AE as it is."""
        if hasattr(self, "svm_") or not hasattr(self, "net_"):
            return []
        self.svm_ = OCSVMDetector(**self._svm_params()).fit(self._embed(train_x))
        return ["svm_"]

    def _fit(self, data: FitData, monitor: TrainingMonitor) -> None:
        super()._fit(data, monitor)
        svm = OCSVMDetector(**self._svm_params())
        self.svm_ = svm.fit(self._embed(data.train_x), X_val=self._embed(data.val_x),
                            dataset=data.dataset)

    def _score(self, x: torch.Tensor) -> np.ndarray:
        return self.svm_.decision_function(self._embed(x))

    native_map = ""  # the score is the SVM's, not the reconstruction error: no native map

    def _native_attribution(self, x: torch.Tensor, ref: torch.Tensor | None) -> np.ndarray | None:
        return None

    def _state_tensors(self) -> dict[str, torch.Tensor]:
        t = super()._state_tensors()
        t.update({f"svm.{k}": v for k, v in self.svm_.state_tensors().items()})
        return t

    def _restore(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        super()._restore(tensors, state)
        svm_params = self._svm_params()
        meta = {"preset": "quick", "user_params": svm_params,
                "params": OCSVMDetector(**svm_params).resolve_params(),
                "input_shape": [self.net_.latent_dim], "modality": "tabular"}
        self.svm_ = OCSVMDetector.from_state(meta, self._sub(tensors, "svm."))
