"""Anomaly Lab's core: datasets, tasks, detectors, the training loop, runs and figures.

Never imports streamlit; the app in ``app.py``/``pages/`` is a thin layer over this package.
"""

__version__ = "0.1.0"
