"""Classical baselines from scikit-learn (docs/methods.md §7): IsolationForest, OC-SVM, LOF, KDE.

They work on flattened pixels (images, already in [0, 1]) or standardised columns (tables).
Persistence never pickles: the standardised training matrix is stored in safetensors and the
estimator is refitted on load with the same seed, which reproduces its scores exactly.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from ad_core.contracts import FitData, ParamSpec, TrainingMonitor
from ad_core.detectors.base import Detector

CONTAMINATION = ParamSpec("contamination", "float", 0.1, "Expected anomaly fraction; sets the "
                          "decision threshold on validation normals.", 0.001, 0.5)
SEED = ParamSpec("seed", "int", 0, "Random seed.", 0, 2**31 - 1, advanced=True)
STANDARDIZE = ParamSpec("preprocess", "choice", "auto", "Input scaling: features = standardise "
                        "each column; none = as they are; auto = features for tables, none for "
                        "images (pixels are already in [0, 1]).",
                        choices=("auto", "features", "none"), aliases=("standardize",),
                        value_aliases=(("yes", "features"), ("no", "none")))


class _Classical(Detector):
    """Shared plumbing: flatten, standardise, fit an estimator, score = −score_samples."""

    modalities = ("image", "tabular")
    explains = ("latent",)

    def _make(self, p: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _features(self, x: torch.Tensor) -> np.ndarray:
        f = x.reshape(len(x), -1).numpy().astype(np.float64)
        return (f - self.mean_) / self.scale_

    def _fit(self, data: FitData, monitor: TrainingMonitor) -> None:
        p = self.params_
        f = data.train_x.reshape(len(data.train_x), -1).numpy().astype(np.float64)
        std = p["preprocess"] == "features" or (p["preprocess"] == "auto"
                                                and data.modality == "tabular")
        self.mean_ = f.mean(0) if std else np.zeros(f.shape[1])
        self.scale_ = np.where(f.std(0) > 1e-8, f.std(0), 1.0) if std else np.ones(f.shape[1])
        self.train_features_ = (f - self.mean_) / self.scale_
        monitor.on_start(1)
        self.estimator_ = self._make(p).fit(self.train_features_)
        monitor.on_step(1, 0.0)
        monitor.on_end()

    def _score(self, x: torch.Tensor) -> np.ndarray:
        return -self.estimator_.score_samples(self._features(x))

    def _embed(self, x: torch.Tensor) -> np.ndarray:
        return self._features(x).astype(np.float32)

    def _explain(self, x: torch.Tensor) -> dict[str, Any]:
        return {"latent": self._embed(x)}

    def _state_tensors(self) -> dict[str, torch.Tensor]:
        return {"train_features": torch.from_numpy(self.train_features_),
                "mean": torch.from_numpy(self.mean_), "scale": torch.from_numpy(self.scale_)}

    def _restore(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        self.train_features_ = tensors["train_features"].numpy()
        self.mean_ = tensors["mean"].numpy()
        self.scale_ = tensors["scale"].numpy()
        self.estimator_ = self._make(self.params_).fit(self.train_features_)


class IsolationForestDetector(_Classical):
    """Isolation Forest (Liu et al. 2008): anomalies are isolated by few random splits.

    Parameters: ``n_estimators`` trees, ``max_samples`` per tree, ``contamination``, ``seed``.
    """

    name = "iforest"
    title = "Isolation Forest"
    paper = "Liu, Ting & Zhou, ICDM 2008"
    summary = "Random trees isolate points; few splits needed = anomalous."
    params: ClassVar = (ParamSpec("n_estimators", "int", 200, "Number of trees.", 10, 2000),
                        ParamSpec("max_samples", "int", 256, "Samples drawn per tree.", 8, 100000),
                        CONTAMINATION, STANDARDIZE, SEED)
    presets: ClassVar = {"quick": {"n_estimators": 100}, "paper": {"n_estimators": 100}}

    def _make(self, p: dict[str, Any]) -> Any:
        from sklearn.ensemble import IsolationForest

        return IsolationForest(n_estimators=p["n_estimators"],
                               max_samples=min(p["max_samples"], len(self.train_features_)),
                               random_state=p["seed"], n_jobs=1)


class OCSVMDetector(_Classical):
    """One-class SVM with an RBF kernel (Schölkopf et al. 2001). ``nu`` bounds the outlier share."""

    name = "ocsvm"
    title = "One-class SVM"
    paper = "Schölkopf et al., Neural Computation 2001"
    summary = "A kernel boundary around the normals; distance outside it = anomalous."
    params: ClassVar = (ParamSpec("nu", "float", 0.1, "Upper bound on training outliers.", 1e-3, 1.0),
                        ParamSpec("gamma", "choice", "scale", "RBF width: 'scale' = 1/(D·var).",
                                  choices=("scale", "auto")),
                        CONTAMINATION, STANDARDIZE, SEED)

    def _make(self, p: dict[str, Any]) -> Any:
        from sklearn.svm import OneClassSVM

        return OneClassSVM(kernel="rbf", nu=p["nu"], gamma=p["gamma"])


class LOFDetector(_Classical):
    """Local Outlier Factor in novelty mode (Breunig et al. 2000): density relative to neighbours."""

    name = "lof"
    title = "Local Outlier Factor"
    paper = "Breunig et al., SIGMOD 2000"
    summary = "Compares each point's local density with its neighbours'."
    params: ClassVar = (ParamSpec("n_neighbors", "int", 20, "Neighbours k.", 1, 500),
                        CONTAMINATION, STANDARDIZE, SEED)

    def _make(self, p: dict[str, Any]) -> Any:
        from sklearn.neighbors import LocalOutlierFactor

        k = min(p["n_neighbors"], max(1, len(self.train_features_) - 1))
        return LocalOutlierFactor(n_neighbors=k, novelty=True)


class KDEDetector(_Classical):
    """Gaussian kernel density estimate; score = −log density. Bandwidth by Scott's rule or given."""

    name = "kde"
    title = "Gaussian KDE"
    paper = "Parzen 1962"
    summary = "Low estimated density under a Gaussian kernel = anomalous."
    params: ClassVar = (ParamSpec("bandwidth", "float", 0.0, "Kernel width; 0 = Scott's rule.", 0.0,
                                  1e4),
                        CONTAMINATION, STANDARDIZE, SEED)

    def _make(self, p: dict[str, Any]) -> Any:
        from sklearn.neighbors import KernelDensity

        bw: Any = p["bandwidth"] if p["bandwidth"] > 0 else "scott"
        return KernelDensity(kernel="gaussian", bandwidth=bw)
