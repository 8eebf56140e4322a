"""The fidelity report's cell function (one sweep cell = one fit), kept apart from the report.

A cell's key includes the fingerprint of this module's ``ad_core`` import closure (and of the
detector's code: :func:`ad_core.sweep.cell_code`), so the report's text and claim logic
(:mod:`ad_core.benchmarks.fidelity`) can change without invalidating cells, while any change to
the code that computed a number does.

Cells (dicts) carry ``kind``:

- ``experiment`` (default): :class:`~ad_core.experiment.ExperimentSpec` fields plus a ``tag``;
  returns AUROC, F1 at contamination, per-kind AUROC (testbed generators, anomaly classes),
  and for LIS-AE the phase-1 AUROC of the same model on the same test set;
- ``intuition``: GeoTrans §6 (:func:`ad_core.teaching.geotrans.intuition_experiment`);
- ``morph``: GeoTrans Figure 1's gradient ascent from a test image of each start digit on a
  model trained on ``normal``, judged by a pixel logistic-regression digit classifier fitted on
  the dataset's training split (which digit the start and the end image look like);
- ``toy``: the Teaching page's exact or toy computations (``name``: ``dcl`` — NeuTraL's
  appendix edge cases; ``toll_fig2``, ``toll_thm1``, ``lisae_42``, ``neutral_toy``; ``bc_magnitude`` —
  where IsolationForest's signal lies on breast cancer, see :func:`_bc_magnitude`).
"""

from __future__ import annotations

import time
from typing import Any


def fidelity_cell(job: dict[str, Any]) -> dict[str, Any]:
    """One fidelity cell → a compact, JSON-able result (see the module docstring)."""
    job = dict(job)
    kind = job.pop("kind", "experiment")
    if kind == "intuition":
        return _intuition(job)
    if kind == "morph":
        return _morph(job)
    if kind == "toy":
        return _toy(job)
    from ad_core import metrics as M
    from ad_core.experiment import ExperimentSpec, run_experiment

    tag = job.pop("tag", "")
    spec = ExperimentSpec(**job, explain_n=0, embed_n=0)
    t0 = time.time()
    res = run_experiment(spec, save=False, artifacts=False)
    m = res.metrics
    out: dict[str, Any] = {
        "tag": tag, "dataset": spec.dataset, "detector": spec.detector,
        "normal": "+".join(res.task.normal), "task": spec.task, "seed": spec.seed,
        "params": spec.params, "auroc": float(m["auroc"]), "f1": float(m["f1"]),
        "per_kind_auroc": {str(k): float(v) for k, v in (m.get("per_kind_auroc") or {}).items()},
        "seconds": time.time() - t0, "n_train": int(m["n_train"]), "n_test": int(m["n_test"]),
        "negatives_source": res.task.negatives_source
        or getattr(res.detector, "negatives_source_", None)}
    if spec.detector == "lisae":
        out["auroc_phase1"] = float(M.auroc(res.task.test_y,
                                            res.detector.phase1_scores(res.task.test_x)))
    return out


def _intuition(job: dict[str, Any]) -> dict[str, Any]:
    from ad_core.teaching.geotrans import intuition_experiment

    r = intuition_experiment(job["normal"], job["anomaly"], job["transformations"], job["seed"],
                             preset=job.get("preset", "quick"), **dict(job.get("params", {})))
    return {**job, "kind": "intuition", "auroc": float(r["auroc"]),
            "seconds": float(r["seconds"]), "recognition": float(r["recognition"]),
            "recognition_anomaly": float(r["recognition_anomaly"])}


def _morph(job: dict[str, Any]) -> dict[str, Any]:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from ad_core.data import load_dataset
    from ad_core.tasks import one_vs_rest, train_test_rows
    from ad_core.teaching.geotrans import gradient_ascent, intuition_experiment

    t0 = time.time()
    normal, starts, seed = str(job["normal"]), [str(s) for s in job["starts"]], int(job["seed"])
    dataset = job.get("dataset", "mnist5k")
    other = next(s for s in starts if s != normal)
    r = intuition_experiment(normal, other, job.get("transformations", "8"), seed,
                             dataset=dataset, **dict(job.get("params", {})))
    det = r["detector"]
    ds = load_dataset(dataset)
    task = one_vs_rest(ds, normal, seed)
    # the judge: a digit classifier on the raw pixels of every class's training images
    train_rows, _ = train_test_rows(ds, seed, task.options.get("test_fraction", 0.2))
    x_all = ds.x.reshape(len(ds.x), -1).numpy()
    y_all = ds.y.numpy()
    judge = LogisticRegression(max_iter=300).fit(x_all[train_rows], y_all[train_rows])
    names = list(ds.class_names)
    rows = []
    for s in starts:
        cid = ds.class_id(s)
        first = int(np.flatnonzero(task.test_class == cid)[0])
        out = gradient_ascent(det, task.test_x[first:first + 1], steps=int(job.get("steps", 200)),
                              lr=float(job.get("lr", 0.01)), every=int(job.get("steps", 200)))
        imgs = np.asarray(out["images"])[:, 0].reshape(len(out["images"]), -1)
        proba = judge.predict_proba(np.clip(imgs[[0, -1]], 0.0, 1.0))
        nid = list(judge.classes_).index(ds.class_id(normal))
        rows.append({"start": s, "normality_start": float(out["normality"][0, 0]),
                     "normality_end": float(out["normality"][-1, 0]),
                     "p_normal_start": float(proba[0, nid]), "p_normal_end": float(proba[1, nid]),
                     "judged_start": names[int(judge.classes_[proba[0].argmax()])],
                     "judged_end": names[int(judge.classes_[proba[1].argmax()])],
                     "mean_abs_change": float(np.abs(imgs[-1] - imgs[0]).mean())})
    return {"kind": "morph", "normal": normal, "seed": seed, "dataset": dataset,
            "transformations": r["transformations"], "auroc_vs_other": float(r["auroc"]),
            "rows": rows, "seconds": time.time() - t0}


def _toy(job: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    name = job["name"]
    t0 = time.time()
    out: dict[str, Any] = {"kind": "toy", "name": name}
    if name == "dcl":
        from ad_core.teaching.neutral import dcl_edge_cases

        out["values"] = {k: float(v) for k, v in dcl_edge_cases(1.0, 2).items()}
    elif name == "toll_fig2":
        from ad_core.teaching.toll import toll_contours

        out["auroc_axis"] = {f"beta={b:g}": {k: float(v) for k, v in
                                             toll_contours(b, steps=400)["auroc_axis"].items()}
                             for b in (0.0, 1.0)}
    elif name == "toll_thm1":
        from ad_core.teaching.toll import toll_gradient_flow

        f = toll_gradient_flow(1.5)
        out["eigenvalues"] = [float(v) for v in np.asarray(f["eigenvalues"])]
        out["relative_end"] = [float(v) for v in np.asarray(f["relative"])[-1]]
    elif name == "lisae_42":
        from ad_core.teaching.lisae import lisae_intuition

        d = lisae_intuition(5.0)
        out.update(auroc_pca=float(d["auroc_pca"]), auroc_lisae=float(d["auroc_lisae"]))
    elif name == "neutral_toy":
        from ad_core.teaching.neutral import neutral_toy

        d = neutral_toy(4, "residual", steps=300, tau=0.1)
        out.update(train_dcl=float(np.mean(d["train_scores"])), k_log_k=float(d["k_log_k"]))
    elif name == "bc_magnitude":
        out["auroc"] = _bc_magnitude(int(job["seed"]))
    else:
        raise ValueError(f"unknown toy {name!r}")
    out["seconds"] = time.time() - t0
    return out


def _bc_magnitude(seed: int) -> dict[str, float]:
    """IsolationForest on the breast-cancer ODDS split of ``seed`` (columns scaled by the training
    normals' standard deviation), fitted on the rows, on their length ‖x‖ only and on their
    direction x/‖x‖ only: AUROC of each (no labels used for fitting)."""
    import numpy as np
    from sklearn.ensemble import IsolationForest

    from ad_core import metrics as M
    from ad_core.data import load_dataset
    from ad_core.tasks import one_vs_rest

    t = one_vs_rest(load_dataset("breast_cancer"), ["benign"], seed)
    tr, te = t.train_x.numpy().astype(float), t.test_x.numpy().astype(float)
    sd = tr.std(0)
    sd[sd < 1e-8] = 1.0
    views = {"rows": lambda z: z, "length": lambda z: np.linalg.norm(z, axis=1, keepdims=True),
             "direction": lambda z: z / np.linalg.norm(z, axis=1, keepdims=True)}
    out = {}
    for k, f in views.items():
        m = IsolationForest(random_state=seed).fit(f(tr / sd))
        out[k] = float(M.auroc(t.test_y, -m.score_samples(f(te / sd))))
    return out
