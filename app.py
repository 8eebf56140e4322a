"""Anomaly Lab — Streamlit entry point (router). Run with ``make app``."""

import streamlit as st

st.set_page_config(page_title="Anomaly Lab", page_icon="🔬", layout="wide")
st.title("Anomaly Lab")
st.write("See inside deep anomaly detectors. The full app is being built; the command line works: "
         "`python -m ad_core train --dataset mnist5k --normal 0 --detector iforest`.")
