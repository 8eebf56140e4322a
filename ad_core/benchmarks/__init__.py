"""Benchmark studies run as ``python -m ad_core.benchmarks.<study>``; each writes JSON + markdown
under ``docs/results/`` through :func:`ad_core.bench.write_results`."""
