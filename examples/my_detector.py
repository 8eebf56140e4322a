"""A detector of your own for Anomaly Lab (docs/own_detector.md): distance to the k-th nearest
training normal. Train it from the clone's folder:

    python -m ad_core train --dataset digits --normal 3 --detector examples.my_detector:MyDetector --json
"""

from typing import Literal

import numpy as np
from scipy.spatial.distance import cdist


class MyDetector:
    """k-th nearest-neighbour distance to the training normals (higher = more anomalous)."""

    def __init__(self, k: int = 5, metric: Literal["euclidean", "cityblock", "cosine"] = "euclidean"):
        self.k = k
        self.metric = metric

    def fit(self, X, y=None):
        self.train_ = np.asarray(X, dtype=np.float64)
        return self

    def decision_function(self, X):
        d = cdist(np.asarray(X, dtype=np.float64), self.train_, metric=self.metric)
        return np.sort(d, axis=1)[:, min(self.k, len(self.train_)) - 1]
