"""Teaching demos: the papers' intuitions, computed small enough for a laptop CPU in seconds.

One module per paper, each returning plain arrays / dicts (the page draws them with
:mod:`ad_core.viz.teaching`); the papers' numbers are in :mod:`ad_core.reference`:

- :mod:`~ad_core.teaching.toll` — Toll (targeted collapse, §3, Figure 2 and Theorem 1);
- :mod:`~ad_core.teaching.lisae` — LIS-AE (§4.2), and phase-1 vs phase-2 scores of a saved run;
- :mod:`~ad_core.teaching.geotrans` — GeoTrans (§6 experiments, Figure 1's gradient ascent);
- :mod:`~ad_core.teaching.neutral` — NeuTraL AD (appendix A edge cases, a live 2-D toy);
- :mod:`~ad_core.teaching.augmentation` — augmentation alignment (the augmentation study §4).

Experiments live here (and in :mod:`ad_core.benchmarks`), never in a detector. Run
``python -m ad_core.teaching geotrans`` to (re)build the cached GeoTrans results.
"""

from ad_core.reference import NEUTRAL_APPENDIX
from ad_core.teaching.augmentation import (
    AUGMENTATION_PAPER,
    AUGMENTATION_RESULTS,
    TESTBED_GENERATORS,
    augmentation_live,
    relative_auroc,
)
from ad_core.teaching.common import gaussian_samples, load_results, results_meta, results_path
from ad_core.teaching.geotrans import (
    GEOTRANS_EXPERIMENTS,
    GEOTRANS_PAPER,
    build_geotrans_cache,
    decode_frames,
    encode_frames,
    geotrans_intuition,
    geotrans_label,
    geotrans_morph,
    geotrans_verdicts,
    gradient_ascent,
    intuition_experiment,
)
from ad_core.teaching.lisae import (
    LISAE_VARIANCES,
    latent_shaped_encoder,
    linear_ae_error,
    lisae_intuition,
    lisae_phase_scores,
    lisae_runs,
    lisae_score,
    pca_encoder,
)
from ad_core.teaching.neutral import (
    ToyTransformation,
    dcl_edge_cases,
    dcl_tau_curves,
    edge_case_embeddings,
    neutral_toy,
    ring_data,
)
from ad_core.teaching.toll import (
    TOLL_VARIANCES,
    LinearAE,
    collapse_profile,
    gradient_flow_latents,
    score_grid,
    toll_axis_auroc,
    toll_contours,
    toll_gradient_flow,
    train_linear_toll,
)

__all__ = [
    "AUGMENTATION_PAPER", "AUGMENTATION_RESULTS", "GEOTRANS_EXPERIMENTS", "GEOTRANS_PAPER",
    "LISAE_VARIANCES", "NEUTRAL_APPENDIX", "TESTBED_GENERATORS", "TOLL_VARIANCES", "LinearAE",
    "ToyTransformation", "augmentation_live", "build_geotrans_cache", "collapse_profile",
    "dcl_edge_cases", "dcl_tau_curves", "decode_frames", "edge_case_embeddings", "encode_frames",
    "gaussian_samples", "geotrans_intuition", "geotrans_label", "geotrans_morph",
    "geotrans_verdicts", "gradient_ascent", "gradient_flow_latents", "intuition_experiment",
    "latent_shaped_encoder", "linear_ae_error", "lisae_intuition", "lisae_phase_scores",
    "lisae_runs", "lisae_score", "load_results", "neutral_toy", "pca_encoder", "relative_auroc",
    "results_meta", "results_path", "ring_data", "score_grid", "toll_axis_auroc",
    "toll_contours", "toll_gradient_flow", "train_linear_toll",
]
