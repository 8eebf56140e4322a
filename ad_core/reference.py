"""The papers' published numbers, transcribed from their tables and figures (the comment above
each group names its source; docs/methods.md cites the same).

AUROC in %, anomaly = positive, one-vs-rest unless the entry says otherwise. The Compare page
shows them beside our measurements where dataset and detector match; ``our_datasets`` lists our
dataset names the paper's numbers are compared with (``mnist5k`` is a 500-per-class subset of
MNIST, so it is compared with MNIST numbers *with that caveat shown*).
"""

from __future__ import annotations

from dataclasses import dataclass, field

DIGITS = tuple(str(i) for i in range(10))


@dataclass(frozen=True)
class Reference:
    """One published result: who, on what, which detector, per class (if given) and average."""

    paper: str
    dataset: str
    detector: str
    average: float
    per_class: dict[str, float] = field(default_factory=dict)
    metric: str = "AUROC %"
    our_datasets: tuple[str, ...] = ()
    note: str = ""


def _pc(values: tuple[float, ...]) -> dict[str, float]:
    return dict(zip(DIGITS, values))


_MNIST = ("mnist", "mnist5k")
_MNIST_NOTE = ("Paper: full MNIST (~6,000 training images per class); mnist5k has 500 per class, "
               "so compare directions, not decimals.")
TOLL = "Toll (targeted collapse)"
LISAE = "LIS-AE"
GEOTRANS = "GeoTrans (Golan & El-Yaniv 2018)"

REFERENCES: tuple[Reference, ...] = (
    # Toll (Ghafourian et al. 2023): Table 1 (MNIST per class, and the OC-SVM / IF / KDE averages
    # of the same table), Table 7 (β = 0 ablation), Table 2 (CIFAR-10), Table 3 (Fashion-MNIST,
    # CIFAR-100).
    Reference(TOLL, "MNIST", "toll", 98.4,
              _pc((99.8, 99.9, 96.2, 97.9, 97.8, 98.1, 99.5, 98.7, 97.3, 98.5)),
              our_datasets=_MNIST, note=_MNIST_NOTE),
    Reference(TOLL + ", ablation β = 0 (plain AE)", "MNIST", "ae", 94.7,
              _pc((99.1, 99.9, 91.4, 93.4, 94.3, 95.1, 98.5, 96.4, 82.9, 96.2)),
              our_datasets=_MNIST, note=_MNIST_NOTE),
    Reference(TOLL + " table", "MNIST", "ocsvm", 91.3, our_datasets=_MNIST, note=_MNIST_NOTE),
    Reference(TOLL + " table", "MNIST", "iforest", 92.3, our_datasets=_MNIST, note=_MNIST_NOTE),
    Reference(TOLL + " table", "MNIST", "kde", 87.0, our_datasets=_MNIST, note=_MNIST_NOTE),
    Reference(TOLL, "Fashion-MNIST", "toll", 93.2, our_datasets=("fashion_mnist",)),
    Reference(TOLL, "CIFAR-10", "toll", 69.6, our_datasets=("cifar10",)),
    Reference(TOLL, "CIFAR-100 (20 superclasses)", "toll", 67.6, our_datasets=("cifar100",)),
    # GeoTrans (Golan & El-Yaniv 2018): Table 1, GeoTrans and the RAW-OC-SVM baseline.
    Reference(GEOTRANS, "CIFAR-10", "geotrans", 86.0,
              _pc((74.7, 95.7, 78.1, 72.4, 87.8, 87.8, 83.4, 95.5, 93.3, 91.3)),
              our_datasets=("cifar10",)),
    Reference(GEOTRANS, "CIFAR-100 (20 superclasses)", "geotrans", 78.7,
              our_datasets=("cifar100",)),
    Reference(GEOTRANS, "Fashion-MNIST", "geotrans", 93.5,
              _pc((99.4, 97.6, 91.1, 89.9, 92.1, 93.4, 83.3, 98.9, 90.8, 99.2)),
              our_datasets=("fashion_mnist",)),
    Reference(GEOTRANS + " table (RAW-OC-SVM)", "Fashion-MNIST", "ocsvm", 92.8,
              our_datasets=("fashion_mnist",)),
    Reference(GEOTRANS + " table (RAW-OC-SVM)", "CIFAR-10", "ocsvm", 62.0,
              our_datasets=("cifar10",)),
    # LIS-AE (Battikh & Lenskiy 2022): Tables 1 and 2 (AUC × 100).
    Reference(LISAE + " Table 1", "MNIST", "lisae", 97.68, our_datasets=_MNIST, note=_MNIST_NOTE),
    Reference(LISAE + " Table 1", "MNIST", "ae", 96.01, our_datasets=_MNIST, note=_MNIST_NOTE),
    Reference(LISAE + " Table 1", "MNIST", "kde", 95.68, our_datasets=_MNIST, note=_MNIST_NOTE),
    Reference(LISAE + " Table 1", "MNIST", "iforest", 86.24, our_datasets=_MNIST,
              note=_MNIST_NOTE),
    Reference(LISAE + " Table 1", "MNIST", "ocsvm", 91.08, our_datasets=_MNIST, note=_MNIST_NOTE),
    Reference(LISAE + " Table 1", "Fashion-MNIST", "lisae", 92.56,
              our_datasets=("fashion_mnist",)),
    Reference(LISAE + " Table 1", "Fashion-MNIST", "ae", 90.76, our_datasets=("fashion_mnist",)),
    Reference(LISAE + " Table 2", "CIFAR-10", "lisae", 81.45, our_datasets=("cifar10",)),
    Reference(LISAE + " Table 2", "SVHN", "lisae", 68.86, our_datasets=("svhn",)),
)


def references_for(dataset: str, detector: str | None = None) -> list[Reference]:
    """Published results comparable with our runs on ``dataset`` (and ``detector`` if given)."""
    return [r for r in REFERENCES if dataset in r.our_datasets
            and (detector is None or r.detector == detector)]


# ------------------------------------------------------------------ the fidelity report's claims
NEUTRAL = "NeuTraL AD (Qiu et al. 2021)"
# GeoTrans §6 experiments: (normal, anomaly, transformations); tx+7 is the authors' Keras shift
# of 7 px along the row axis.
GEOTRANS_INTUITION_EXPERIMENTS: tuple[tuple[str, str, str], ...] = (
    ("8", "3", "identity,flip"), ("3", "8", "identity,flip"), ("8", "3", "identity,tx+7"))

# Paper figures of each claim :mod:`ad_core.benchmarks.fidelity` reruns (sources per line).
FIDELITY: dict[str, dict[str, float]] = {
    # Toll ablation, MNIST digit 8 (AUROC %; Table 7), and the latent-norm averages over classes
    # (Table 8)
    "toll_digit8": {"beta0": 82.9, "beta1000": 97.3},
    "toll_norms": {"1": 98.4, "2": 98.4, "inf": 97.4},
    # LIS-AE (AUC): Table 3 MNIST row, Table 1 1-class and 2-class MNIST
    "lisae": {"table3_none": 0.9485, "table3_mnist": 0.9778, "table1_ae": 0.9601,
              "table1_lisae": 0.9768, "two_class_ae": 0.9221, "two_class_lisae": 0.9457},
    # GeoTrans Table 1, Fashion-MNIST averages (AUROC %): no MNIST table in the paper
    "geotrans": {"geotrans_fmnist": 93.5, "raw_ocsvm_fmnist": 92.8},
    # GeoTrans §6 (AUROC)
    "geotrans_intuition": {"8v3_flip": 0.646, "3v8_flip": 0.957, "8v3_translate": 0.919},
    # NeuTraL AD appendix A.3, K = 2, τ = 1 (unscaled DCL); Arrhythmia F1 %: NeuTraL AD's main
    # text (approximate: the text we hold is the appendix), IsolationForest from Toll's Table 4
    "neutral_appendix": {"identity": 1.386, "counterexample": 0.627},
    "neutral_tabular": {"neutral_arrhythmia_f1": 60.0, "iforest_arrhythmia_f1": 53.0},
}

#: GeoTrans §6 (AUROC) per experiment ``(normal, anomaly, transformations)``.
GEOTRANS_INTUITION_PAPER: dict[tuple[str, str, str], float] = dict(zip(
    GEOTRANS_INTUITION_EXPERIMENTS,
    (FIDELITY["geotrans_intuition"][k] for k in ("8v3_flip", "3v8_flip", "8v3_translate"))))
#: NeuTraL AD appendix A: the unscaled DCL of the edge cases at K = 2, τ = 1.
NEUTRAL_APPENDIX: dict[str, float] = dict(FIDELITY["neutral_appendix"])
