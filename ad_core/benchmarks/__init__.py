"""The studies (one paper claim or product measurement each), on bench's files and sweep's engine.

Fidelity, augmentation, GeoTrans, NeuTraL, reconstruction, scale, quick start, classroom — unlike
:mod:`ad_core.bench`'s one generic grid and :mod:`ad_core.sweep`'s engine that runs the cells of
both. Each runs as ``python -m ad_core.benchmarks.<study>`` and writes JSON + markdown under
``docs/results/`` through :func:`ad_core.bench.write_results`."""
