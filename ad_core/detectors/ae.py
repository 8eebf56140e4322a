"""Plain autoencoder (docs/methods.md §2, "vanilla" AE) and the reconstruction-detector base class.

:class:`ReconstructionDetector` holds everything the reconstruction family shares — fitted
preprocessing (:class:`~ad_core.nets.preprocess.InputTransform`), the network choice
(:mod:`ad_core.nets.conv_ae`), training through :func:`ad_core.train.fit_loop`, batched scoring,
``embed``/``explain`` and safetensors persistence. Subclasses change only what their paper
changes: the DAE the training input (:mod:`ad_core.detectors.dae`), Toll the per-sample objective
(:mod:`ad_core.detectors.toll`), LIS-AE the training schedule (:mod:`ad_core.detectors.lisae`).

Reconstruction error ``error``: ``mse`` = mean over elements of (x̂ − x)² (the augmentation
study's score), ``l2`` = ‖x̂ − x‖₂, the non-squared Euclidean norm of the flattened difference
(Toll's and LIS-AE's). Errors are measured in model space (after preprocessing), which is also
the space of ``explain()['error_map']`` (resized back to the input shape if the input was resized).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from ad_core.contracts import FitData, ParamSpec, TrainingMonitor
from ad_core.detectors.base import Detector
from ad_core.device import default_device
from ad_core.errors import BadParameterError
from ad_core.nets import conv_ae as nets
from ad_core.nets.preprocess import InputTransform
from ad_core.nets.terms import latent_norm, reconstruction_error
from ad_core.train import fit_loop, predict_batches, seed_everything

ARCHS = ("auto", "conv", "lisae", "dae32", "toll_mnist", "toll_cifar", "mlp")
PREPROCESS = ("auto", "none", "standardize", "features", "gcn")

P_ARCH = ParamSpec("arch", "choice", "auto", "Network: auto = small conv AE for images, MLP for "
                   "tables; lisae = LIS-AE's conv AE (tanh latent); dae32 = the augmentation "
                   "study's 4-layer DAE (32×32); toll_mnist / toll_cifar = Toll's appendix-B nets.",
                   choices=ARCHS)
P_LATENT = ParamSpec("latent_dim", "int", 32, "Size of the latent code z (the bottleneck).", 1, 4096)
P_WIDTH = ParamSpec("width", "int", 16, "Channels of the first conv layer (doubled in the second) "
                    "or width of the MLP's last hidden layer (the first has twice as many).", 2, 1024)
P_BN = ParamSpec("batchnorm", "bool", False, "BatchNorm after each conv of the small conv network "
                 "(arch=conv); Toll's networks always have it.")
P_PREP = ParamSpec("preprocess", "choice", "auto", "Input scaling fitted on the training normals: "
                   "standardize = one pixel mean/std (Toll MNIST), features = per-column (tables), "
                   "gcn = global contrast normalisation + min-max (Toll CIFAR), none = [0, 1] pixels. "
                   "auto picks what the architecture's paper did.", choices=PREPROCESS)
P_RESIZE = ParamSpec("resize", "int", 0, "Resize images to this side length first (the DAE paper: "
                     "28 → 32); 0 keeps the size.", 0, 512, advanced=True)
P_EPOCHS = ParamSpec("epochs", "int", 30, "Passes over the training normals (ignored when "
                     "iterations > 0).", 1, 100000)
P_ITERS = ParamSpec("iterations", "int", 0, "If > 0: train for this many random batches instead of "
                    "epochs (Toll's protocol: 2000).", 0, 1000000)
P_BATCH = ParamSpec("batch_size", "int", 64, "Samples per gradient step.", 1, 100000)
P_LR = ParamSpec("lr", "float", 1e-3, "Adam learning rate.", 1e-7, 1.0, log=True)
P_WD = ParamSpec("weight_decay", "float", 0.0, "Adam weight decay.", 0.0, 1.0, advanced=True)
P_SCHED = ParamSpec("schedule", "choice", "constant", "Learning-rate schedule: constant or one "
                    "cosine decay over the whole training.", choices=("constant", "cosine"))
P_SELECT = ParamSpec("select", "choice", "best", "Checkpoint kept: best = lowest validation-normal "
                     "loss (no labels), last = final weights.", choices=("best", "last"))
P_EVAL = ParamSpec("eval_every", "int", 0, "Steps between validation checks (0 = once per epoch, "
                   "or every 20 iterations).", 0, 100000, advanced=True)
P_ERROR = ParamSpec("error", "choice", "mse", "Reconstruction error used for training and scoring: "
                    "mse = mean squared error per sample, l2 = non-squared ‖x̂ − x‖₂.",
                    choices=("mse", "l2"))
P_CONT = ParamSpec("contamination", "float", 0.1, "Expected anomaly fraction; sets the decision "
                   "threshold on validation normals.", 0.001, 0.5)
P_SEED = ParamSpec("seed", "int", 0, "Random seed (weights, batch order, augmentations).", 0,
                   2**31 - 1, advanced=True)

COMMON_PARAMS: tuple[ParamSpec, ...] = (P_ARCH, P_LATENT, P_WIDTH, P_BN, P_PREP, P_RESIZE, P_EPOCHS,
                                        P_ITERS, P_BATCH, P_LR, P_WD, P_SCHED, P_SELECT, P_EVAL)


class ReconstructionDetector(Detector):
    """Shared plumbing of the autoencoder detectors (see the module docstring)."""

    modalities = ("image", "tabular")
    explains: ClassVar[tuple[str, ...]] = ("reconstruction", "error_map", "latent", "latent_norm")
    native_map: ClassVar[str] = "reconstruction error map (x̂ − x)², model space"
    norm_p: ClassVar[float] = 2.0  # norm reported as latent_norm

    # --------------------------------------------------------------- configuration
    def check_params(self, p: dict[str, Any]) -> None:
        if p.get("arch") in ("toll_mnist",) and p.get("resize", 0) not in (0, 28):
            raise BadParameterError("The toll_mnist network needs 28×28 inputs: set resize to 0.")

    def _error_kind(self) -> str:
        return str(self.params_.get("error", "l2"))

    def _resolved_arch(self, modality: str) -> str:
        arch = self.params_["arch"]
        if arch == "auto":
            return "mlp" if modality == "tabular" else "conv"
        if modality == "tabular" and arch != "mlp":
            raise BadParameterError(f"The {arch} network is for images; tables use arch=mlp.")
        if modality == "image" and arch == "mlp":
            raise BadParameterError("arch=mlp is for tables; choose a conv network for images.")
        return arch

    def _resolved_prep(self, arch: str, modality: str) -> str:
        prep = self.params_["preprocess"]
        if prep != "auto":
            if modality == "image" and prep == "features":
                raise BadParameterError("preprocess=features is for tables; images use none, "
                                        "standardize or gcn.")
            if modality == "tabular" and prep == "gcn":
                raise BadParameterError("preprocess=gcn is for images.")
            return prep
        if modality == "tabular":
            return "features"
        return {"toll_mnist": "standardize", "toll_cifar": "gcn"}.get(arch, "none")

    def _build_net(self, arch: str, prep: str, model_shape: tuple[int, ...]) -> nets.AutoEncoder:
        """The network for ``arch`` sized for ``model_shape`` (pure function of the parameters)."""
        p = self.params_
        z, w = int(p["latent_dim"]), int(p["width"])
        out = "sigmoid" if prep == "none" else "none"
        if arch == "mlp":
            return nets.mlp_ae(model_shape[0], z, (2 * w, w))
        if len(model_shape) != 3:
            raise BadParameterError(f"The {arch} network needs images (C, H, W).")
        if arch == "toll_mnist":
            if model_shape[1:] != (28, 28):
                raise BadParameterError("The toll_mnist network needs 28×28 images.")
            return nets.toll_mnist_ae(model_shape, z)
        if arch == "toll_cifar":
            if model_shape[1:] != (32, 32):
                raise BadParameterError("The toll_cifar network needs 32×32 images (set resize=32).")
            return nets.toll_cifar_ae(model_shape, z)
        if arch == "dae32":
            if model_shape[1:] != (32, 32):
                raise BadParameterError("The dae32 network needs 32×32 images (set resize=32).")
            ae = nets.dae_paper_ae(model_shape, z)
            if out != "sigmoid":
                ae.decoder[-1] = torch.nn.Identity()
            return ae
        if arch == "lisae":
            ae = nets.lisae_ae(model_shape, z, w)
            if out != "sigmoid":
                ae.decoder[-1] = torch.nn.Identity()
            return ae
        return nets.conv_ae(model_shape, z, (w, 2 * w), out_act=out, batchnorm=bool(p["batchnorm"]))

    # --------------------------------------------------------------- objective (override)
    def sample_loss(self, xm: torch.Tensor, x_hat: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Per-sample objective in model space; also the anomaly score. Here: the error."""
        return reconstruction_error(x_hat, xm, self._error_kind())

    def training_input(self, x: torch.Tensor) -> torch.Tensor:
        """What the network sees during training, in input space (the DAE augments it)."""
        return x

    # --------------------------------------------------------------- fitting
    def _setup(self, data: FitData) -> torch.Generator:
        """Seed, resolve the architecture and preprocessing, fit the preprocessing, build the net."""
        p = self.params_
        gen = seed_everything(int(p["seed"]))
        self.device_ = default_device()
        self.arch_ = self._resolved_arch(data.modality)
        self.prep_mode_ = self._resolved_prep(self.arch_, data.modality)
        resize = (int(p["resize"]),) * 2 if p["resize"] and data.modality == "image" else None
        self.prep_ = InputTransform(self.prep_mode_, tuple(data.train_x.shape[1:]), resize)
        self.prep_.fit(data.train_x)
        self.prep_.to(self.device_)
        self.net_ = self._build_net(self.arch_, self.prep_mode_, self.prep_.model_shape).to(self.device_)
        return gen

    def _optimizer(self, params: Any, lr: float | None = None) -> torch.optim.Optimizer:
        p = self.params_
        return torch.optim.Adam(params, lr=float(lr or p["lr"]), weight_decay=float(p["weight_decay"]))

    def _schedule(self, opt: torch.optim.Optimizer) -> tuple[Any, str]:
        p = self.params_
        if p["schedule"] != "cosine":
            return None, "epoch"
        if p["iterations"] > 0:
            return torch.optim.lr_scheduler.CosineAnnealingLR(opt, int(p["iterations"])), "step"
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, int(p["epochs"])), "epoch"

    def _loop_length(self) -> dict[str, int]:
        p = self.params_
        return {"iterations": int(p["iterations"])} if p["iterations"] > 0 else {"epochs": int(p["epochs"])}

    def _mean_score(self, x: torch.Tensor) -> float:
        """Mean per-sample objective on ``x`` (validation-normal loss), in eval mode."""
        return float(self._per_sample(x).mean())

    def validation_criterion(self, data: FitData) -> Any:
        """What ``select=best`` minimises: the validation-normal loss (no labels)."""
        return lambda: self._mean_score(data.val_x)

    def loop_select(self) -> str:
        """The training loop's ``select`` (``best`` = lowest :meth:`validation_criterion`, or
        ``last``); a subclass with more checkpoint rules maps its own here."""
        return str(self.params_["select"])

    def _fit(self, data: FitData, monitor: TrainingMonitor) -> None:
        gen = self._setup(data)
        self._train_phase(data, monitor, gen, phase="")

    def _train_phase(self, data: FitData, monitor: TrainingMonitor, gen: torch.Generator,
                     phase: str) -> Any:
        """Train the whole network on ``sample_loss`` of the (training-input) normals."""
        p = self.params_
        net, prep = self.net_, self.prep_

        def loss_fn(batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
            x = batch[0]
            xm = prep(x)
            x_hat, z = net(prep(self.training_input(x)))
            return self.sample_loss(xm, x_hat, z).mean()

        opt = self._optimizer(net.parameters())
        sched, per = self._schedule(opt)
        return fit_loop(modules=net, optimizer=opt, loss_fn=loss_fn,
                        data=(data.train_x.to(self.device_),), batch_size=int(p["batch_size"]),
                        scheduler=sched, scheduler_per=per, monitor=monitor,
                        validate=self.validation_criterion(data), eval_every=int(p["eval_every"]) or None,
                        select=self.loop_select(), generator=gen, device=self.device_, drop_last=True,
                        history=self.history_, phase=phase, **self._loop_length())

    # --------------------------------------------------------------- inference
    def _forward_parts(self, net: nets.AutoEncoder, xb: torch.Tensor) -> dict[str, torch.Tensor]:
        xm = self.prep_(xb)
        x_hat, z = net(xm)
        return {"xm": xm, "x_hat": x_hat, "z": z}

    def _per_sample(self, x: torch.Tensor, net: nets.AutoEncoder | None = None) -> torch.Tensor:
        net = net or self.net_
        net.eval()

        def fn(xb: torch.Tensor) -> torch.Tensor:
            o = self._forward_parts(net, xb)
            return self.sample_loss(o["xm"], o["x_hat"], o["z"])

        return predict_batches(fn, x, self.device_)

    def _score(self, x: torch.Tensor) -> np.ndarray:
        return self._per_sample(x).numpy().astype(np.float64)

    def _embed(self, x: torch.Tensor) -> np.ndarray:
        self.net_.eval()
        return predict_batches(lambda xb: self.net_.encode(self.prep_(xb)), x, self.device_).numpy()

    def _reconstruct(self, x: torch.Tensor, net: nets.AutoEncoder | None = None) -> dict[str, Any]:
        """Reconstruction (input space), squared-error map (model space, input shape) and z."""
        net = net or self.net_
        net.eval()
        prep = self.prep_

        def fn(xb: torch.Tensor) -> dict[str, torch.Tensor]:
            o = self._forward_parts(net, xb)
            rec = prep.inverse(o["x_hat"].float(), xb)
            err = (o["x_hat"].float() - o["xm"].float()).pow(2)
            if err.shape != xb.shape:
                err = torch.nn.functional.interpolate(err, size=tuple(xb.shape[2:]), mode="bilinear",
                                                      align_corners=False)
            return {"reconstruction": rec.clamp(0, 1) if self.modality_ == "image" else rec,
                    "error_map": err, "latent": o["z"].float()}

        out = predict_batches(fn, x, self.device_)
        return {k: v.numpy().astype(np.float32) for k, v in out.items()}

    def _explain(self, x: torch.Tensor) -> dict[str, Any]:
        out = self._reconstruct(x)
        out["latent_norm"] = latent_norm(torch.from_numpy(out["latent"]), self.norm_p).numpy()
        return out

    def _native_attribution(self, x: torch.Tensor, ref: torch.Tensor | None) -> np.ndarray | None:
        """The reconstruction error map (what the score aggregates)."""
        return self._reconstruct(x)["error_map"]

    # --------------------------------------------------------------- persistence
    def _state_tensors(self) -> dict[str, torch.Tensor]:
        t = {f"net.{k}": v for k, v in self.net_.state_dict().items()}
        t.update({f"prep.{k}": v for k, v in self.prep_.state_dict().items()})
        return t

    def _state_json(self) -> dict[str, Any]:
        return {"arch": self.arch_, "preprocess": self.prep_mode_,
                "model_shape": list(self.prep_.model_shape),
                "resize": list(self.prep_.resize) if self.prep_.resize else None}

    @staticmethod
    def _sub(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
        return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}

    def _restore(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        self.device_ = default_device()
        self.arch_, self.prep_mode_ = state["arch"], state["preprocess"]
        self.prep_ = InputTransform(self.prep_mode_, self.input_shape_, state.get("resize"))
        self.prep_.load_state_dict(self._sub(tensors, "prep."))
        self.prep_.to(self.device_)
        self.net_ = self._build_net(self.arch_, self.prep_mode_, tuple(state["model_shape"]))
        self.net_.load_state_dict(self._sub(tensors, "net."))
        self.net_.to(self.device_).eval()


class AEDetector(ReconstructionDetector):
    """Plain ("vanilla") autoencoder: trained to reconstruct normals; score = reconstruction error.

    Parameters: ``arch``, ``latent_dim``, ``width``, ``preprocess``, ``resize``, ``epochs`` or
    ``iterations``, ``batch_size``, ``lr``, ``weight_decay``, ``schedule``, ``select``,
    ``eval_every``, ``error`` (mse or l2, used for both the loss and the score), ``contamination``,
    ``seed``. ``embed`` returns the latent code z.
    """

    name = "ae"
    title = "Autoencoder"
    paper = "Hinton & Salakhutdinov 2006; the no-augmentation baseline of Yoo et al. 2023"
    summary = "Learns to reconstruct normal data; badly reconstructed inputs are anomalous."
    params: ClassVar = (*COMMON_PARAMS, P_ERROR, P_CONT, P_SEED)
    presets: ClassVar = {
        # 100 epochs (~170 → ~570 steps on one mnist5k class): with 30, DAEs trained on strong
        # augmentations (crop, geom, simclr) collapsed to the mean normal image.
        "quick": {"arch": "auto", "latent_dim": 32, "width": 16, "epochs": 100, "batch_size": 64,
                  "lr": 2e-3},
        # The augmentation study's vanilla AE (docs/methods.md §2).
        "paper": {"arch": "dae32", "latent_dim": 256, "resize": 32, "epochs": 256,
                  "batch_size": 1024, "lr": 1e-3, "schedule": "cosine", "select": "last",
                  "error": "mse"},
    }

    @classmethod
    def dataset_preset(cls, preset: str, dataset: str | None,
                       input_shape: tuple[int, ...] | None) -> dict[str, Any]:
        if preset == "paper" and input_shape is not None and len(input_shape) == 1:
            return {"arch": "mlp", "resize": 0, "latent_dim": 16, "width": 128}
        return {}
