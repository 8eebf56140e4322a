"""Plotly figure builders: arrays in, ``go.Figure`` out. Used by pages, docs and benchmarks.

Never imports detectors, jobs or runs; never imports streamlit.
"""
