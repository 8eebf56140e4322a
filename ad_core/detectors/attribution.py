"""Why is this sample anomalous? Attribution maps on the estimator contract (issue 20).

One model-agnostic attribution works for every detector, images and tables alike, through the
detector's own ``decision_function``: the change of the anomaly score when a region (an image
patch, sliding with a stride) or a feature is replaced by a *reference* taken from the run's normal
training data (by default the mean training normal). Captum does the bookkeeping: ``Occlusion``
for images (each pixel gets the mean score drop over the windows covering it), ``FeatureAblation``
for tables (one feature at a time). All perturbed copies of a sample go through
``decision_function`` in one batch. Positive = replacing that part by normal data *lowers* the
score, i.e. it pushes the sample towards "anomalous"; the map is in score units.

*Native* maps are a method's own view (``Detector._native_attribution``): the reconstruction
error map of the reconstruction detectors, the input-gradient of the score (times the input's
difference from the reference, the first-order estimate of the same replacement) for GeoTrans and
NeuTraL AD.

:func:`deletion_curve` measures faithfulness: replace the most-attributed pixels/features by the
reference step by step and record the score (``ad_core.benchmarks.attribution``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ad_core.errors import BadDataError, BadParameterError, did_you_mean

if TYPE_CHECKING:
    from ad_core.detectors.base import Detector

#: ``attribute(method=…)``: occlusion (images) / ablation (tables) are the same model-agnostic
#: attribution under their usual names; ``auto`` picks by modality; ``native`` is the method's own.
METHODS = ("auto", "occlusion", "ablation", "native")

#: Most perturbed copies per ``decision_function`` call.
MAX_BATCH = 1024


def default_window(shape: tuple[int, ...]) -> tuple[int, int]:
    """(window, stride) of the occlusion patches for an image of ``shape`` ``(C, H, W)``: a
    window of about a quarter of the side (7 px on 28×28), stride half of it, so the windows tile
    the image exactly (8 × 8 = 64 positions on 28×28, 7 × 7 on 32×32)."""
    side = min(int(shape[-1]), int(shape[-2]))
    w = max(2, round(side / 4))
    s = max(1, w // 2)
    while s > 1 and (side - w) % s:
        s -= 1
    return w, s


def resolve_reference(det: Detector, reference: Any, x: torch.Tensor) -> torch.Tensor:
    """The reference as a float32 tensor ``[1, *shape]`` or ``[N, *shape]`` (one per sample):
    ``reference`` if given (one input, or one per sample), else the detector's ``reference_``
    (the mean training normal, set by ``fit``)."""
    ref = getattr(det, "reference_", None) if reference is None else reference
    if ref is None:
        raise BadDataError("An attribution needs a reference from the normal training data (the "
                           "parts of the sample are replaced by it): pass reference=… (e.g. the "
                           "mean training normal); this loaded detector does not keep one.")
    ref = torch.as_tensor(np.asarray(ref, dtype=np.float32))
    shape = tuple(x.shape[1:])
    if tuple(ref.shape) == shape:
        ref = ref[None]
    if tuple(ref.shape[1:]) != shape or len(ref) not in (1, len(x)):
        raise BadDataError(f"The reference has shape {tuple(ref.shape)}; it must be one input "
                           f"{shape} or one per sample ({len(x)}, {', '.join(map(str, shape))}).")
    if not torch.isfinite(ref).all():
        raise BadDataError("The reference contains NaN or infinite values.")
    return ref


def _score_fn(det: Detector):
    def forward(t: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(np.asarray(det.decision_function(t.detach()), dtype=np.float64))

    return forward


def score_attribution(det: Detector, x: torch.Tensor, ref: torch.Tensor, *,
                      window: int | None = None, stride: int | None = None) -> np.ndarray:
    """The model-agnostic map ``[N, *shape]`` (float32): Captum ``Occlusion`` (images) or
    ``FeatureAblation`` (tables) on the detector's ``decision_function``, the reference as
    baseline, every perturbed copy of a sample scored in one batch."""
    from captum.attr import FeatureAblation, Occlusion

    forward = _score_fn(det)
    base = ref.expand_as(x).contiguous() if len(ref) == 1 else ref
    out = []
    for i in range(len(x)):  # one sample at a time: all its perturbations form one batch
        xi, bi = x[i:i + 1], base[i:i + 1]
        if x.ndim == 4:
            w0, s0 = default_window(tuple(x.shape[1:]))
            w, s = int(window or w0), int(stride or s0)
            c = int(x.shape[1])
            n_pert = ((x.shape[2] - w) // s + 1) * ((x.shape[3] - w) // s + 1)
            a = Occlusion(forward).attribute(xi, sliding_window_shapes=(c, w, w),
                                             strides=(c, s, s), baselines=bi,
                                             perturbations_per_eval=min(MAX_BATCH, n_pert))
        else:
            a = FeatureAblation(forward).attribute(
                xi, baselines=bi, perturbations_per_eval=min(MAX_BATCH, int(x.shape[1])))
        out.append(a.detach().float().numpy())
    return np.concatenate(out).astype(np.float32)


def attribute(det: Detector, x: torch.Tensor, method: str = "auto", reference: Any = None, *,
              window: int | None = None, stride: int | None = None) -> np.ndarray:
    """What :meth:`Detector.attribute` returns: a map shaped like ``x`` (float32)."""
    if method not in METHODS:
        raise BadParameterError(f"Attribution method {method!r} is unknown. "
                                f"{did_you_mean(str(method), list(METHODS))}")
    if method == "native":
        ref = resolve_reference(det, reference, x) if (
            reference is not None or getattr(det, "reference_", None) is not None) else None
        m = det._native_attribution(x, ref)
        if m is None:
            raise BadParameterError(f"{det.title or det.name} has no native map; use "
                                    "method='occlusion' (images) or 'ablation' (tables).")
        return np.asarray(m, dtype=np.float32).reshape(x.shape)
    if window is not None and int(window) < 1 or stride is not None and int(stride) < 1:
        raise BadParameterError("window and stride must be whole numbers ≥ 1.")
    if x.ndim == 4 and window is not None and int(window) > min(x.shape[2:]):
        raise BadParameterError(f"window={window} is larger than the image "
                                f"({x.shape[2]}×{x.shape[3]}).")
    ref = resolve_reference(det, reference, x)
    return score_attribution(det, x, ref, window=window, stride=stride)


def input_gradient(score: Any, x: torch.Tensor, ref: torch.Tensor | None) -> np.ndarray:
    """The gradient of a differentiable per-sample score ``score(x) → [N]`` at ``x``, times
    ``x − ref`` when a reference is given (the first-order estimate of the score drop when the
    element is replaced by the reference), else the plain gradient."""
    xg = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        s = score(xg)
        (g,) = torch.autograd.grad(s.sum(), xg)
    g = g.detach().float()
    if ref is not None:
        g = g * (x - ref.to(x.dtype))
    return g.numpy().astype(np.float32)


# --------------------------------------------------------------------------- calibration


def calibration_scale(normal_maps: np.ndarray, q: float = 99.0) -> float:
    """The scale of a run's maps: the ``q``-th percentile of |attribution| over the maps of the
    run's normal samples (one number per run and method, never per image). Dividing by it, 1 means
    "as strong as the strongest effects seen on normal samples"; a normal sample's map stays
    mostly below 1."""
    a = np.abs(np.asarray(normal_maps, dtype=np.float64)).ravel()
    a = a[np.isfinite(a)]
    v = float(np.percentile(a, q)) if len(a) else 0.0
    return v if v > 1e-12 else 1.0


# --------------------------------------------------------------------------- faithfulness


def deletion_curve(det: Detector, x1: np.ndarray | torch.Tensor, order_map: np.ndarray,
                   reference: np.ndarray | torch.Tensor, steps: int = 10,
                   rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Scores of one sample ``x1`` as its most-attributed elements are replaced by the reference,
    in ``steps`` equal steps (0 %, 1/steps, …, 100 % of the elements); ``order_map`` ranks them
    (higher first; channels of a pixel move together). With ``rng`` the order is random instead.
    Returns (fractions, scores); all ``steps + 1`` inputs are scored in one batch."""
    x = torch.as_tensor(np.asarray(x1, dtype=np.float32))
    ref = torch.as_tensor(np.asarray(reference, dtype=np.float32)).reshape(x.shape)
    m = np.asarray(order_map, dtype=np.float64).reshape(x.shape)
    if x.ndim == 3:  # rank pixels (all channels together)
        m = m.sum(0)
    flat = m.ravel()
    n = len(flat)
    order = rng.permutation(n) if rng is not None else np.argsort(-flat, kind="stable")
    fractions = np.linspace(0.0, 1.0, steps + 1)
    batch = []
    for f in fractions:
        mask = np.zeros(n, dtype=bool)
        mask[order[:round(f * n)]] = True
        mask_t = torch.from_numpy(mask.reshape(m.shape))
        if x.ndim == 3:
            mask_t = mask_t[None].expand_as(x)
        batch.append(torch.where(mask_t, ref, x))
    scores = np.asarray(det.decision_function(torch.stack(batch)), dtype=np.float64)
    return fractions, scores


def deletion_auc(fractions: np.ndarray, scores: np.ndarray) -> float:
    """Area under a deletion curve normalised per sample: the score drop from the untouched
    sample (1) to the fully replaced one (0), integrated over the fraction replaced (trapezoid).
    Lower = the order found the elements that make the score high sooner; NaN when replacing
    everything does not lower the score."""
    s0, s1 = float(scores[0]), float(scores[-1])
    if not s0 > s1:
        return float("nan")
    y = (np.asarray(scores, dtype=np.float64) - s1) / (s0 - s1)
    return float(np.trapezoid(y, fractions))
