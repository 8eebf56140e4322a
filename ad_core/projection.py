"""2-D projections of a run's embedded test samples: PCA, t-SNE and UMAP, cached on disk per run.

The features are what the detector's ``embed()`` returned for a sample of test rows
(``embedding.npz``: ``index``, ``features``). Wide features are first reduced to 50 principal
components (the usual t-SNE/UMAP practice) which keeps a 5,000-point projection to seconds.

UMAP compiles its numba kernels on first use (15–20 s of one core here), and that compilation
holds the Python interpreter. umap-learn does not ask numba to cache them, so the worker does
(:func:`cache_umap_kernels`): only the first server start on a machine compiles. Projections run
in one persistent worker *process* (spawned from :func:`ad_core.spawning.spawn_context`, never
forked from the server, and never re-running the server's main script): :func:`warm_up` sends it
tiny UMAPs when the app starts, the server stays responsive meanwhile, and the user's first real
UMAP finds the kernels compiled. The worker runs at a lower CPU priority (``nice`` +10), so
neither the pages nor a training job wait for it. A warm-up that failed is retried at most once a
minute, never on every page load.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import threading
import time
import warnings
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ad_core.errors import BadDataError, UnknownNameError, did_you_mean
from ad_core.paths import REPO_ROOT
from ad_core.spawning import spawn_context

if TYPE_CHECKING:
    from ad_core.runs import Run

METHODS = ("pca", "tsne", "umap")
METHOD_TITLES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
PRE_PCA_DIMS = 50

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_warm_future: Future | None = None


def _worker() -> ProcessPoolExecutor:
    """The one projection process (spawned lazily; restarted if it died)."""
    global _pool
    with _lock:
        if _pool is None or getattr(_pool, "_broken", False):
            _pool = ProcessPoolExecutor(max_workers=1,
                                        mp_context=spawn_context(),
                                        initializer=_init_worker)
            atexit.register(_pool.shutdown, wait=False, cancel_futures=True)
        return _pool


#: Niceness added to the projection worker: below the server and the training process.
WORKER_NICE = 10
#: Native threads of the projection worker (see :func:`_init_worker`).
WORKER_THREADS = 1
#: Seconds before a failed warm-up may be tried again.
RETRY_AFTER_S = 60.0


def numba_cache_dir() -> Path:
    """Where the projection worker keeps compiled UMAP kernels: ``$ANOMALY_LAB_CACHE/numba``,
    else ``<repo>/.cache/numba`` (``REPO_ROOT``: the clone, or the current directory of an
    installed copy)."""
    base = os.environ.get("ANOMALY_LAB_CACHE")
    return (Path(base).expanduser() if base else REPO_ROOT / ".cache") / "numba"


def cache_umap_kernels() -> None:
    """Make numba cache on disk every kernel umap-learn compiles in this process.

    umap-learn decorates its kernels without ``cache=True``, so each new process compiled them
    again (18.5 s of one core for a first 1,000-point UMAP here; 1.4 s once cached). Numba has no
    global switch, so, in the projection worker only and before umap is imported, ``numba.jit``
    and ``numba.njit`` get ``cache=True`` as their default (an explicit ``cache=`` still wins;
    kernels numba cannot cache just compile as before). Call before the first ``import umap``.
    """
    cache = numba_cache_dir()
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # read-only checkout: compile in memory as before
    os.environ.setdefault("NUMBA_CACHE_DIR", str(cache))
    import numba

    if getattr(numba.jit, "_anomaly_lab_cached", False):
        return
    jit = numba.jit

    def cached_jit(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cache", True)
        return jit(*args, **kwargs)

    def cached_njit(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cache", True)
        kwargs["nopython"] = True
        return jit(*args, **kwargs)

    cached_jit._anomaly_lab_cached = cached_njit._anomaly_lab_cached = True  # type: ignore[attr-defined]
    numba.jit, numba.njit = cached_jit, cached_njit


def _init_worker() -> None:
    from ad_core.worker import exit_with_parent

    exit_with_parent()
    # One thread for every native pool (OpenMP of t-SNE, BLAS, numba): at a lower priority, a
    # second OpenMP thread spin-waiting on a core the server or a training holds stalled each
    # barrier (t-SNE of 1,000 points: 52 s in the app on a busy machine, 2.7 s standalone).
    os.environ["OMP_NUM_THREADS"] = os.environ["NUMBA_NUM_THREADS"] = str(WORKER_THREADS)
    from threadpoolctl import threadpool_limits

    threadpool_limits(WORKER_THREADS)
    with contextlib.suppress(OSError):  # not permitted here: run at normal priority
        os.nice(WORKER_NICE)
    warnings.filterwarnings("ignore", module="numba")  # "cannot cache …" notes, not errors
    cache_umap_kernels()


def _pre_reduce(x: np.ndarray, seed: int) -> np.ndarray:
    """Standardise nothing, just centre and keep the top ``PRE_PCA_DIMS`` principal components."""
    if x.shape[1] <= PRE_PCA_DIMS or len(x) <= PRE_PCA_DIMS:
        return x
    from sklearn.decomposition import PCA

    return PCA(PRE_PCA_DIMS, random_state=seed).fit_transform(x).astype(np.float32)


def project(features: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """Project ``features`` ``[N, D]`` to ``[N, 2]`` with PCA, t-SNE or UMAP (deterministic)."""
    if method not in METHODS:
        raise UnknownNameError(f"Unknown projection {method!r}. {did_you_mean(method, METHODS)}")
    x = np.asarray(features, dtype=np.float32).reshape(len(features), -1)
    if len(x) < 3:
        raise BadDataError("A projection needs at least 3 embedded samples.")
    if not np.isfinite(x).all():
        raise BadDataError("The stored embedding contains NaN or infinite values.")
    if x.shape[1] == 1:
        x = np.concatenate([x, np.zeros_like(x)], axis=1)
    if method == "pca":
        from sklearn.decomposition import PCA

        xy = PCA(2, random_state=seed).fit_transform(x)
    elif method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, max(2.0, (len(x) - 1) / 3.0)))
        xy = TSNE(2, perplexity=perplexity, init="pca", random_state=seed,
                  max_iter=500).fit_transform(_pre_reduce(x, seed))
    else:
        xy = _umap(len(x), seed).fit_transform(_pre_reduce(x, seed))
    return np.asarray(xy, dtype=np.float32)


def _umap(n: int, seed: int, force_approximation: bool = False) -> Any:
    """UMAP with 200 optimisation epochs (enough for a 2-D picture, ~2× faster than the
    default 500 on small data) and the seeded, single-threaded path (reproducible)."""
    import umap

    return umap.UMAP(n_components=2, n_neighbors=min(15, n - 1), random_state=seed, n_jobs=1,
                     n_epochs=200, force_approximation_algorithm=force_approximation)


def cache_key(features: np.ndarray, method: str, seed: int) -> str:
    """File name of a cached projection: method, seed and a hash of the features' bytes."""
    h = hashlib.sha1(np.ascontiguousarray(features, dtype=np.float32).tobytes()).hexdigest()[:12]
    return f"projection-{method}-s{seed}-{h}.npy"


def run_projection(run: Run, method: str = "pca", seed: int = 0) -> dict[str, Any]:
    """The run's projection (computed once, then read from ``<run>/cache/``).

    Returns ``{"xy": [N, 2], "index": test rows [N], "cached": bool, "seconds": float}``.
    """
    emb = run.embedding
    if "features" not in emb or "index" not in emb:
        raise BadDataError("This run stored no embedding, so there is nothing to project; "
                           "train it again from the Train page.")
    feats = emb["features"]
    path = run.cache_path(cache_key(feats, method, seed))
    if path.exists():
        xy = np.load(path, allow_pickle=False)
        if xy.shape == (len(feats), 2):
            return {"xy": xy, "index": emb["index"], "cached": True, "seconds": 0.0}
    t0 = time.perf_counter()
    if method == "pca":  # cheap: in this process, never queued behind the UMAP warm-up
        xy = project(feats, method, seed)
    else:
        _note_request()
        try:
            xy = _worker().submit(project, feats, method, seed).result()
        except BrokenProcessPool:  # the worker died (killed, out of memory): one fresh try
            xy = _worker().submit(project, feats, method, seed).result()
    tmp = path.with_suffix(f".tmp{threading.get_ident()}.npy")
    np.save(tmp, xy, allow_pickle=False)
    tmp.replace(path)
    return {"xy": xy, "index": emb["index"], "cached": False,
            "seconds": time.perf_counter() - t0}


def _warm(approximate: bool) -> bool:
    """Compile UMAP's kernels on a tiny sample: the exact neighbour search with the layout
    optimiser (what runs below 4,096 points), or the NN-descent search used above that."""
    x = np.random.default_rng(0).normal(size=(300, 8)).astype(np.float32)
    _umap(len(x), 0, force_approximation=approximate).fit_transform(x)
    return True


_warm_failed_at = 0.0
#: When a user last asked the worker for a projection (``time.monotonic()``).
_last_request = 0.0
#: The NN-descent warm-up waits until the worker has had no request (and no warm-up) for this
#: many seconds: a user opening UMAP right after a quick start must not queue behind it.
APPROX_WARM_IDLE_S = 60.0
_approx_started = False


def _note_request() -> None:
    global _last_request
    _last_request = time.monotonic()


def _warm_approximate_when_idle(exact: Future) -> None:
    """Compile NN-descent's kernels (needed above 4,096 points only) once the exact warm-up is
    done and the worker has been idle for :data:`APPROX_WARM_IDLE_S`: pynndescent's search
    cannot be cached on disk (18 s of one core here), and queued ahead of a user's t-SNE it made
    that user wait for it."""
    global _approx_started
    with _lock:
        if _approx_started:
            return
        _approx_started = True

    def wait_then_submit() -> None:
        with contextlib.suppress(Exception):
            exact.result()
            warm_at = time.monotonic()
            while time.monotonic() - max(_last_request, warm_at) < APPROX_WARM_IDLE_S:
                time.sleep(1.0)
            _worker().submit(_warm, True).add_done_callback(lambda f: f.exception())

    threading.Thread(target=wait_then_submit, name="umap-approx-warm-up", daemon=True).start()


def warm_up(block: bool = False) -> Future:
    """Start the projection process and compile UMAP in it, once (idempotent, non-blocking).

    The exact-search kernels compile first (every run up to 4,096 embedded points needs only
    them; read from numba's disk cache after the first start); NN-descent's compile later, when
    the worker is idle (:func:`_warm_approximate_when_idle`). The returned future is the exact
    warm-up's.
    """
    global _warm_future, _warm_failed_at
    with _lock:
        fut = _warm_future
        failed = fut is not None and fut.done() and fut.exception() is not None
        if failed and not _warm_failed_at:
            _warm_failed_at = time.time()
        retry = failed and time.time() - _warm_failed_at > RETRY_AFTER_S
    if fut is None or retry:
        fut = _worker().submit(_warm, False)
        with _lock:
            _warm_future, _warm_failed_at = fut, 0.0
        _warm_approximate_when_idle(fut)
    if block:
        fut.result()
    return fut


def ready(method: str) -> bool:
    """Whether ``method`` answers without a warm-up wait (UMAP compiles once per server)."""
    return method != "umap" or is_warm()


def is_warm() -> bool:
    """Whether UMAP's exact-search warm-up has finished successfully."""
    fut = _warm_future
    return fut is not None and fut.done() and fut.exception() is None


def compile_kernels() -> float:
    """Compile UMAP's exact-search kernels into the on-disk numba cache now (what the
    projection worker's warm-up does), so the first UMAP of a fresh clone does not wait for
    them; ``make app`` and ``make test`` call it once after installing. Returns the seconds."""
    t0 = time.perf_counter()
    warnings.filterwarnings("ignore", module="numba")
    cache_umap_kernels()
    _warm(False)
    return time.perf_counter() - t0


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--compile"]:
        raise SystemExit("usage: python -m ad_core.projection --compile")
    print(f"UMAP kernels compiled into {numba_cache_dir()} in {compile_kernels():.1f} s")
