"""LIS-AE — latent-insensitive autoencoder (docs/methods.md §4; Battikh & Lenskiy 2022, Algorithm 1).

Phase 1, *feature extraction*: a normal AE minimises ‖x̂⁺ − x⁺‖₂ on the positives (normals),
plus (our addition, ``latent_penalty``) λ·mean(pre-activation²) of the latent layer, which keeps
the tanh out of saturation: a saturated tanh has zero gradient, and phase 2 could not reshape it.
The LinSep variant adds a linear binary classifier (BCE) on the latent layer's pre-activation,
trained on positives vs negatives, so both are linearly separable when phase 2 starts.

Phase 2, :func:`latent_shaping_phase`: everything but the latent layer (FC + tanh) is frozen and
the latent layer is retrained on L = ‖x̂⁺ − x⁺‖₂ + β·|γ − ‖x̂⁻ − x⁻‖₂| (batch-averaged), so
positives still reconstruct and negatives do not. γ is the negative error we are satisfied with:
``gamma`` if given, else ``gamma_multiple`` × the phase-1 mean negative error. Score: ‖x̂ − x‖₂.

Negatives D⁻ ("a second dataset from a similar domain", §5) come from the task
(``data.negatives_x``: other classes of the same dataset, the generated stroke/glyph set, another
dataset) or, when the task has none (one-vs-rest), from the generated stroke/glyph set
(:mod:`ad_core.data.strokes`, the offline stand-in for the paper's Omniglot). Augmented copies of
the normals are used only when explicitly chosen (``negatives=augmented-normals``): they are not
a similar-domain set. The source is recorded in the fitted state (``negatives_source``). A tenth
of the negatives is held out for the phase-2 validation loss. Both phases run through
:func:`ad_core.train.fit_loop` and share one history (keys ``phase1_*`` and ``phase2_*``).
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ad_core.contracts import FitData, NegativesRequest, ParamSpec, Task, TrainingMonitor
from ad_core.detectors.ae import COMMON_PARAMS, P_CONT, P_SEED, ReconstructionDetector
from ad_core.errors import BadDataError
from ad_core.nets import conv_ae as nets
from ad_core.nets.terms import lisae_phase2_loss
from ad_core.nets.terms import reconstruction_error as _rec
from ad_core.train import fit_loop, predict_batches


def latent_shaping_phase(net: nets.AutoEncoder, prep: nn.Module, pos: torch.Tensor,
                         neg: torch.Tensor, *, beta: float, gamma: float, epochs: int,
                         batch_size: int, lr: float, generator: torch.Generator,
                         device: torch.device, monitor: TrainingMonitor, history: dict,
                         validate: Any = None, select: str = "last") -> Any:
    """Phase 2: freeze all but ``net.latent`` and minimise :func:`lisae_phase2_loss`.

    Only ``net.latent`` is passed to the optimiser and to the training loop, so the frozen encoder
    and decoder also keep their BatchNorm statistics (they stay in eval mode).
    """
    for name, prm in net.named_parameters():
        prm.requires_grad_(name.startswith("latent."))
    net.eval()
    neg_gen = torch.Generator().manual_seed(int(torch.randint(0, 2**31, (1,), generator=generator)))
    neg = neg.to(device)

    def loss_fn(batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, dict[str, float]]:
        xp = prep(batch[0])
        xn = prep(neg[torch.randint(0, len(neg), (len(batch[0]),), generator=neg_gen).to(device)])
        hp, _ = net(xp)
        hn, _ = net(xn)
        rp, rn = _rec(hp, xp, "l2"), _rec(hn, xn, "l2")
        return lisae_phase2_loss(rp, rn, beta, gamma), {"rec_pos": float(rp.detach().mean()),
                                                        "rec_neg": float(rn.detach().mean())}

    opt = torch.optim.Adam(net.latent.parameters(), lr=lr)
    try:
        return fit_loop(modules=net.latent, optimizer=opt, loss_fn=loss_fn, data=(pos.to(device),),
                        batch_size=batch_size, epochs=epochs, monitor=monitor, validate=validate,
                        select=select, generator=generator, device=device, drop_last=True,
                        history=history, phase="phase2")
    finally:
        for prm in net.parameters():
            prm.requires_grad_(True)
        net.eval()


class LISAEDetector(ReconstructionDetector):
    """LIS-AE: an AE whose latent layer is reshaped with negatives so only normals reconstruct.

    Parameters: the AE's network/training ones (phase 1: ``epochs``, ``lr``, …) plus ``linsep``
    (LinSep variant), ``linsep_weight``, ``beta``, ``gamma_multiple`` or ``gamma`` (absolute, 0 =
    use the multiple), ``phase2_epochs``, ``phase2_lr`` and ``negatives`` (task = the task's
    negatives or synthetic ones when it has none; synthetic = always synthetic).
    """

    name = "lisae"
    title = "LIS-AE (latent-insensitive AE)"
    paper = "Battikh & Lenskiy, Latent-Insensitive Autoencoders for Anomaly Detection (Mathematics 2022)"
    summary = "Retrain only the latent layer so negatives stop reconstructing; normals still do."
    explains: ClassVar = ("reconstruction", "error_map", "latent", "latent_norm",
                          "reconstruction_phase1", "error_map_phase1")
    params: ClassVar = (
        *COMMON_PARAMS,
        ParamSpec("linsep", "bool", False, "LinSep-LIS-AE: in phase 1 also train a linear classifier "
                  "(BCE) on the latent pre-activation, positives vs negatives."),
        ParamSpec("linsep_weight", "float", 1.0, "Weight of the LinSep BCE term.", 0.0, 1e4,
                  advanced=True),
        ParamSpec("beta", "float", 1.0, "β: weight of the negative term in phase 2.", 0.0, 1e6),
        ParamSpec("gamma_multiple", "float", 3.0, "γ = this × the phase-1 mean negative error.",
                  0.0, 1e4),
        ParamSpec("gamma", "float", 0.0, "Absolute γ (negative error to reach); 0 = use "
                  "gamma_multiple.", 0.0, 1e9, advanced=True),
        ParamSpec("latent_penalty", "float", 0.0, "λ · mean(pre-activation²) of the latent "
                  "layer added to the phase-1 loss: keeps the tanh latent out of saturation, "
                  "where phase 2 has no gradient (0 = off, the paper's loss).", 0.0, 1e4,
                  advanced=True),
        ParamSpec("phase2_epochs", "int", 20, "Epochs of the latent-shaping phase.", 1, 100000),
        ParamSpec("phase2_lr", "float", 1e-3, "Adam learning rate of the latent-shaping phase.",
                  1e-7, 1.0, log=True),
        ParamSpec("negatives", "choice", "task", "Negative data: task = the task's negatives "
                  "(the generated stroke/glyph set when it has none, e.g. one-vs-rest); strokes "
                  "= always the stroke/glyph set; augmented-normals = heavily augmented copies of "
                  "the normals (explicit option only: not a similar-domain negative set).",
                  choices=("task", "strokes", "augmented-normals")),
        P_CONT, P_SEED,
    )
    presets: ClassVar = {
        # latent_penalty: without it phase 1 drives the tanh latent into saturation (measured on
        # mnist5k digit 8: 100 % of units at |z| > 0.99, |pre-activation| ≈ 6–22), where phase 2
        # has no gradient and latent shaping changes nothing. λ = 0.1 was chosen among {0.01,
        # 0.1} by the phase-1 validation-normal reconstruction error (no labels); both remove
        # the saturation. LinSep is the paper's Table 2 variant, off by default.
        "quick": {"arch": "lisae", "latent_dim": 32, "width": 16, "epochs": 30, "batch_size": 64,
                  "lr": 2e-3, "phase2_epochs": 20, "phase2_lr": 1e-3, "linsep": False,
                  "latent_penalty": 0.1},
        "paper": {"arch": "lisae", "latent_dim": 64, "width": 32, "epochs": 100, "batch_size": 128,
                  "lr": 1e-3, "phase2_epochs": 50, "phase2_lr": 1e-3, "latent_penalty": 0.1},
    }

    @classmethod
    def dataset_preset(cls, preset: str, dataset: str | None,
                       input_shape: tuple[int, ...] | None) -> dict[str, Any]:
        if input_shape is not None and len(input_shape) == 1:
            return {"arch": "mlp", "width": 64, "latent_dim": 16}
        if preset == "paper" and input_shape is not None and input_shape[0] == 3:
            return {"latent_dim": 256, "width": 64}  # larger latent, wider layers for SVHN/CIFAR
        return {}

    def _error_kind(self) -> str:
        return "l2"

    def _resolved_arch(self, modality: str) -> str:
        if self.params_["arch"] == "auto":
            return "mlp" if modality == "tabular" else "lisae"
        return super()._resolved_arch(modality)

    def _build_net(self, arch: str, prep: str, model_shape: tuple[int, ...]) -> nets.AutoEncoder:
        if arch == "mlp":  # the tabular LIS-AE: an MLP with the FC + tanh latent layer
            w = int(self.params_["width"])
            return nets.mlp_ae(model_shape[0], int(self.params_["latent_dim"]), (2 * w, w),
                               latent_act="tanh")
        return super()._build_net(arch, prep, model_shape)

    # --------------------------------------------------------------- negatives
    def negatives_request(self) -> NegativesRequest:
        """D⁻ as the ``negatives`` parameter names it (the experiment resolves the request)."""
        p = self.preview_params("negatives", "seed")
        kind = {"task": "task-or-strokes"}.get(p["negatives"], p["negatives"])
        return NegativesRequest(kind, seed=int(p["seed"]))

    def _negatives(self, data: FitData) -> tuple[torch.Tensor, str]:
        """The negative dataset D⁻ ``fit`` received, checked, and where it came from."""
        neg = data.negatives_x
        if neg is None:
            raise BadDataError("LIS-AE needs negative samples: pass fit(..., negatives=...) (the "
                               "experiment supplies the task's negatives or the generated "
                               "stroke/glyph set).")
        if tuple(neg.shape[1:]) != tuple(data.train_x.shape[1:]):
            raise BadDataError("The negatives must have the normals' shape.")
        if len(neg) < 4:
            raise BadDataError("LIS-AE needs at least 4 negative samples.")
        return neg.float(), data.negatives_source or "given negatives"

    # --------------------------------------------------------------- training
    def _interim_state(self, train_x: torch.Tensor) -> list[str]:
        """During phase 1 the phase-1 model is the one being trained: ``net1_`` is ``net_``."""
        if hasattr(self, "net1_") or not hasattr(self, "net_"):
            return []
        self.net1_ = self.net_
        return ["net1_"]

    def _fit(self, data: FitData, monitor: TrainingMonitor) -> None:
        p = self.params_
        gen = self._setup(data)
        neg, self.negatives_source_ = self._negatives(data)
        perm = torch.randperm(len(neg), generator=torch.Generator().manual_seed(int(p["seed"]) + 5))
        n_val = max(2, len(neg) // 10)
        neg_val, neg_train = neg[perm[:n_val]], neg[perm[n_val:]]
        self.n_negatives_ = len(neg)
        self._feature_extraction_phase(data, neg_train, monitor, gen)
        self.net1_ = copy.deepcopy(self.net_).eval()
        self.phase1_saturation_ = self.saturation(data.train_x)
        self.phase1_neg_error_ = float(self._per_sample(neg_train).mean())
        self.gamma_ = float(p["gamma"]) if p["gamma"] > 0 else float(p["gamma_multiple"]) * \
            self.phase1_neg_error_
        beta, gamma = float(p["beta"]), self.gamma_

        def validate() -> float:
            return float(lisae_phase2_loss(self._per_sample(data.val_x), self._per_sample(neg_val),
                                           beta, gamma))

        latent_shaping_phase(self.net_, self.prep_, data.train_x, neg_train, beta=beta, gamma=gamma,
                             epochs=int(p["phase2_epochs"]), batch_size=int(p["batch_size"]),
                             lr=float(p["phase2_lr"]), generator=gen, device=self.device_,
                             monitor=monitor, history=self.history_, validate=validate,
                             select=p["select"])

    def _feature_extraction_phase(self, data: FitData, neg: torch.Tensor, monitor: TrainingMonitor,
                                  gen: torch.Generator) -> None:
        """Phase 1: reconstruct the positives (+ LinSep's BCE on the latent pre-activation)."""
        p = self.params_
        net, prep, dev = self.net_, self.prep_, self.device_
        modules: list[nn.Module] = [net]
        params = list(net.parameters())
        head = None
        if p["linsep"]:
            head = nn.Linear(net.latent_dim, 1).to(dev)
            modules.append(head)
            params += list(head.parameters())
        neg_dev = neg.to(dev)
        neg_gen = torch.Generator().manual_seed(int(p["seed"]) + 23)
        w = float(p["linsep_weight"])

        lam = float(p["latent_penalty"])

        def loss_fn(batch: tuple[torch.Tensor, ...]) -> Any:
            xp = prep(batch[0])
            pre = net.latent_pre(xp)
            x_hat = net.decode(net.latent.act(pre))
            loss = _rec(x_hat, xp, "l2").mean()
            if lam > 0:
                loss = loss + lam * pre.float().pow(2).mean()
            if head is None:
                return loss
            xn = prep(neg_dev[torch.randint(0, len(neg_dev), (len(xp),), generator=neg_gen).to(dev)])
            logits = head(torch.cat([pre, net.latent_pre(xn)])).squeeze(1)
            target = torch.cat([torch.zeros(len(xp)), torch.ones(len(xn))]).to(logits.device)
            bce = F.binary_cross_entropy_with_logits(logits.float(), target)
            return loss + w * bce, {"bce": float(bce.detach())}

        opt = self._optimizer(params)
        sched, per = self._schedule(opt)
        fit_loop(modules=modules, optimizer=opt, loss_fn=loss_fn, data=(data.train_x.to(dev),),
                 batch_size=int(p["batch_size"]), scheduler=sched, scheduler_per=per,
                 monitor=monitor, validate=lambda: self._mean_score(data.val_x),
                 eval_every=int(p["eval_every"]) or None, select=p["select"], generator=gen,
                 device=dev, drop_last=True, history=self.history_, phase="phase1",
                 **self._loop_length())

    # --------------------------------------------------------------- outputs
    def saturation(self, x: torch.Tensor, net: nets.AutoEncoder | None = None) -> float:
        """Fraction of latent units with |tanh| > 0.99 on ``x``: where tanh saturates, phase 2's
        gradient vanishes and latent shaping cannot move the code (a label-free diagnostic)."""
        net = net or self.net_
        net.eval()
        if not isinstance(net.latent.act, nn.Tanh):
            return 0.0
        z = predict_batches(lambda xb: net.encode(self.prep_(xb)), x, self.device_)
        return float((z.abs() > 0.99).float().mean())

    def phase1_scores(self, x: torch.Tensor) -> np.ndarray:
        """Scores of the phase-1 (feature-extraction) model: the plain AE before latent shaping."""
        self._check_fitted()
        return self._per_sample(x, self.net1_).numpy().astype(np.float64)

    def extra_scores(self, task: Task, negatives: torch.Tensor | None = None
                     ) -> dict[str, np.ndarray]:
        """``phase1_test``: phase-1 test scores; ``negatives`` / ``negatives_phase1``: the
        negatives' scores after / before latent shaping."""
        out = {"phase1_test": self.phase1_scores(task.test_x)}
        if negatives is not None:
            out.update({"negatives": self.decision_function(negatives),
                        "negatives_phase1": self.phase1_scores(negatives)})
        return out

    def _explain(self, x: torch.Tensor) -> dict[str, Any]:
        out = super()._explain(x)
        p1 = self._reconstruct(x, self.net1_)
        out["reconstruction_phase1"] = p1["reconstruction"]
        out["error_map_phase1"] = p1["error_map"]
        return out

    def _state_tensors(self) -> dict[str, torch.Tensor]:
        t = super()._state_tensors()
        t.update({f"phase1.{k}": v for k, v in self.net1_.state_dict().items()})
        return t

    def _state_json(self) -> dict[str, Any]:
        return {**super()._state_json(), "negatives_source": self.negatives_source_,
                "n_negatives": self.n_negatives_, "gamma": self.gamma_,
                "phase1_negative_error": self.phase1_neg_error_,
                "phase1_saturation": self.phase1_saturation_}

    def _restore(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        super()._restore(tensors, state)
        self.net1_ = self._build_net(self.arch_, self.prep_mode_, tuple(state["model_shape"]))
        self.net1_.load_state_dict(self._sub(tensors, "phase1."))
        self.net1_.to(self.device_).eval()
        self.negatives_source_ = state["negatives_source"]
        self.n_negatives_ = int(state["n_negatives"])
        self.gamma_ = float(state["gamma"])
        self.phase1_neg_error_ = float(state["phase1_negative_error"])
        self.phase1_saturation_ = float(state.get("phase1_saturation", float("nan")))
