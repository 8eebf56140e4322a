"""Denoising autoencoder with the augmentation catalogue (docs/methods.md §2; Yoo, Zhao & Akoglu, AAAI 2023).

The DAE f_aug is trained to map an augmented normal image back to the clean one,
min E‖f(aug(x)) − x‖²; the anomaly score is the reconstruction error of the *un-augmented* test
image. ``augmentation=none`` is the plain AE. Everything else — networks, preprocessing, the
training loop, scoring, persistence — is the AE's (:class:`~ad_core.detectors.ae.AEDetector`);
only :meth:`DAEDetector.training_input` differs.

``extra_scores(task)`` adds ``augmented``: the scores of augmented training images (one seeded
draw), for the histogram of normal vs augmented-training vs anomalous errors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from ad_core.contracts import FitData, ParamSpec, Task
from ad_core.detectors.ae import AEDetector
from ad_core.errors import BadParameterError


@dataclass(frozen=True)
class DictParamSpec(ParamSpec):
    """A parameter holding a small ``{name: number}`` dict, given as a dict, JSON or ``k=v,k=v``."""

    def coerce(self, value: Any) -> Any:
        if value is None or value == "":
            return {}
        if isinstance(value, str):
            text = value.strip()
            try:
                value = json.loads(text) if text.startswith("{") else dict(
                    kv.split("=", 1) for kv in text.split(",") if kv.strip())
            except ValueError:
                raise BadParameterError(f"{self.name} must look like 'name=value,name=value', got "
                                        f"{text!r}.") from None
        if not isinstance(value, dict):
            raise BadParameterError(f"{self.name} must be a mapping of parameter names to values.")
        out: dict[str, Any] = {}
        for k, v in value.items():
            try:
                out[str(k).strip()] = float(v) if isinstance(v, str) else v
            except ValueError:
                raise BadParameterError(f"{self.name}: {k}={v!r} is not a number.") from None
        return out


class DAEDetector(AEDetector):
    """Denoising AE: trains on ``augment(x) → x`` and scores clean inputs by reconstruction error.

    Parameters: the AE's (see :class:`~ad_core.detectors.ae.AEDetector`) plus ``augmentation`` (a
    name of :data:`ad_core.augment.CATALOGUE`; ``none`` = plain AE) and ``augmentation_params``
    (that augmentation's parameters, e.g. ``sigma=0.2`` for noise or ``c=0.3`` for cutout-c).
    Presets: ``quick`` (small conv AE, 100 epochs); ``paper`` (the study's 4-layer conv DAE on 32×32
    inputs, MSE, Adam 1e-3, one cosine decay over 256 epochs, batch 1024, last epoch kept).
    """

    name = "dae"
    title = "Denoising AE (augmentation catalogue)"
    paper = "Yoo, Zhao & Akoglu, Role of Data Augmentation in Unsupervised Anomaly Detection (AAAI 2023)"
    summary = "Reconstruct clean normals from augmented ones; aligned augmentations help."
    previews: ClassVar = ("augmentations",)
    params: ClassVar = (
        *AEDetector.params,
        ParamSpec("augmentation", "str", "rotate", "Augmentation aug(x) the DAE learns to undo "
                  "(see the augmentation catalogue; none = plain AE)."),
        DictParamSpec("augmentation_params", "str", {}, "Parameters of the augmentation, e.g. "
                      "'sigma=0.2' (noise) or 'c=0.3' (cutout-c); empty = the study's defaults."),
    )
    presets: ClassVar = {
        "quick": {**AEDetector.presets["quick"], "augmentation": "rotate"},
        "paper": {**AEDetector.presets["paper"], "augmentation": "rotate"},
    }

    @classmethod
    def dataset_preset(cls, preset: str, dataset: str | None,
                       input_shape: tuple[int, ...] | None) -> dict[str, Any]:
        out = super().dataset_preset(preset, dataset, input_shape)
        if input_shape is not None and len(input_shape) == 1:
            out["augmentation"] = "noise"  # the geometric default makes no sense on a table
        return out

    def check_params(self, p: dict[str, Any]) -> None:
        super().check_params(p)
        from ad_core.augment import augmenter

        self._augmenter = augmenter(str(p["augmentation"]), **dict(p["augmentation_params"]))

    def _setup(self, data: FitData) -> torch.Generator:
        from ad_core.augment import available

        if data.modality == "tabular" and self.params_["augmentation"] not in available("tabular"):
            raise BadParameterError(f"The {self.params_['augmentation']!r} augmentation works on "
                                    f"images; for tables choose one of {', '.join(available('tabular'))}.")
        gen = super()._setup(data)
        self._aug_gen = torch.Generator().manual_seed(int(self.params_["seed"]) + 1)
        return gen

    def training_input(self, x: torch.Tensor) -> torch.Tensor:
        """aug(x): a fresh augmentation of the batch at every step."""
        return self._augmenter(x, self._aug_gen)

    def augmented(self, x: torch.Tensor, seed: int = 0) -> torch.Tensor:
        """One seeded draw of aug(x) (input space), e.g. for previews and the histogram."""
        if not hasattr(self, "_augmenter"):
            self.check_params(self.params_)
        return self._augmenter(x, torch.Generator().manual_seed(int(seed)))

    def extra_scores(self, task: Task, negatives: torch.Tensor | None = None
                     ) -> dict[str, np.ndarray]:
        """``augmented``: scores of augmented training images (one seeded draw)."""
        xa = self.augmented(task.train_x, int(self.params_["seed"]) + 99)
        return {"augmented": self.decision_function(xa)}
