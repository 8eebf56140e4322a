"""Data: pick a dataset, the normal class(es) and the task; see samples; upload your own data.

The choices live in the session (``ui.common.data_choice()``) and feed the Train page. Uploads
belong to this browser session (``ui.common.owner()``): they are listed, loaded and named here by
the file name the user gave, never by their path on the server.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from ad_core import catalogue
from ad_core.errors import UserError
from ad_core.tasks import TESTBED_GENERATORS
from ui.common import chart, data_choice, owner, uploads, user_errors

st.title("Data")
st.caption("Choose what is normal. Detectors train on normal samples only; the test set mixes "
           "normals with anomalies.")
choice = data_choice()


def _init(key: str, value: Any) -> None:
    """Give a widget its remembered value when the page is (re)entered."""
    if key not in st.session_state:
        st.session_state[key] = value


# ----------------------------------------------------------------------------- upload
with st.expander("Upload your own data (CSV table or zip of images)", icon=":material/upload:"):
    st.markdown(
        "- **CSV**: numeric feature columns plus a `label` column (class of each row). "
        "An example ships in `assets/example.csv`.\n"
        "- **Zip of images**: one folder per class with PNG or JPEG files inside. "
        "Up to 50 MB; uploads stay in this browser session (other sessions cannot see them) "
        "and unused ones are removed from the server after a day.")
    up = st.file_uploader("CSV or zip", type=["csv", "zip"], key="upload")
    if up is not None and st.session_state.get("_uploaded_sig") != (up.name, up.size):
        with user_errors(), st.spinner(f"Checking {up.name}…"):
            name = catalogue.upload_dataset(up.name, up.getvalue(), owner())
            if name not in uploads():
                uploads().append(name)
            st.session_state["_uploaded_sig"] = (up.name, up.size)
            choice.dataset = name
            st.session_state["data_dataset"] = name
            st.success(f"Loaded **{up.name}** (your upload); it is selected below.")

# ----------------------------------------------------------------------------- dataset
listed = catalogue.dataset_catalogue(uploads(), owner())
entries = {e.name: e for e in listed}
if choice.dataset not in entries:  # e.g. a name pasted from another session: say why
    try:
        catalogue.load(choice.dataset, owner())
    except UserError as e:
        st.error(str(e))
        choice.dataset = next(iter(entries))
    else:  # one of this session's own uploads that the list had lost
        uploads().append(choice.dataset)
        entries = {e.name: e for e in catalogue.dataset_catalogue(uploads(), owner())}
    st.session_state.pop("data_dataset", None)
_init("data_dataset", choice.dataset)
if st.session_state["data_dataset"] not in entries:
    st.session_state["data_dataset"] = choice.dataset
name = st.selectbox("Dataset", list(entries), key="data_dataset",
                    format_func=lambda n: entries[n].label,
                    help="'offline' datasets ship with the app; others need their files on disk.")
entry = entries[name]
shown = entry.display_name + (" (your upload)" if entry.uploaded else "")
slug = "".join(c if c.isalnum() or c in "._-" else "_" for c in entry.display_name)
if entry.available or not entry.uploaded:  # a removed upload's note comes once, just below
    st.caption(entry.description)
try:
    with st.spinner(f"Loading {shown}…"):
        ds = catalogue.load(name, owner())
except UserError as e:
    st.warning(str(e) if entry.available else f"{e}")
    if not entry.available and entry.files_hint:
        st.info(catalogue.unavailable_message(name))
    st.stop()
choice.dataset = name

# ----------------------------------------------------------------------------- task
counts = ds.counts()
names = list(ds.class_names)
kinds = ["one-vs-rest", "negatives"] + (["testbed"] if ds.modality == "image" else [])
_init("data_task", choice.task if choice.task in kinds else "one-vs-rest")
if st.session_state["data_task"] not in kinds:
    st.session_state["data_task"] = "one-vs-rest"
c1, c2, c3 = st.columns([2, 3, 1])
with c1:
    task = st.radio("Task", kinds, key="data_task", format_func=catalogue.TASK_TITLES.get,
                    help="One-vs-rest: the normal class(es) against all others. Testbed: normal "
                         "test images vs flipped / cut-out / inverted copies of them. Negatives: "
                         "LIS-AE also sees a few 'negative' classes while training.")
with c2:
    nkey = f"data_normal_{name}"
    _init(nkey, [c for c in choice.normal if c in names] or [names[0]])
    normal = st.multiselect("Normal class(es)", names, key=nkey,
                            format_func=lambda c: f"{c} ({counts.get(c, 0)} samples)",
                            help="Training uses these classes only.")
    negatives: list[str] = []
    generators = list(choice.generators)
    if task == "negatives":
        others = [c for c in names if c not in normal]
        gkey = f"data_neg_{name}"
        _init(gkey, [c for c in choice.negatives if c in others])
        st.session_state[gkey] = [c for c in st.session_state[gkey] if c in others]
        negatives = st.multiselect("Negative classes (seen by LIS-AE while training)", others,
                                   key=gkey, help="Empty = the class after the last normal one, "
                                                  "as in the paper.")
    elif task == "testbed":
        _init("data_generators", [g for g in choice.generators if g in TESTBED_GENERATORS]
              or list(TESTBED_GENERATORS))
        generators = st.multiselect("Generated anomalies", list(TESTBED_GENERATORS),
                                    key="data_generators")
with c3:
    _init("data_seed", int(choice.seed))
    seed = st.number_input("Seed", 0, 10_000, key="data_seed", step=1,
                           help="Same seed → same split.")

if not normal:
    st.info("Choose at least one normal class.")
    st.stop()
if task == "testbed" and not generators:
    st.info("Choose at least one kind of generated anomaly.")
    st.stop()
choice.normal, choice.task, choice.seed = list(normal), task, int(seed)
choice.negatives, choice.generators = list(negatives), list(generators)

with user_errors():
    t = catalogue.build_choice_task(choice)
    st.success(f"**Task:** {t.description.replace(name, shown)}. Go to **Train** to train "
               "detectors on it.",
               icon=":material/check_circle:")
    if st.button("Continue to Train", icon=":material/arrow_forward:"):
        st.switch_page("pages/train.py")

# ----------------------------------------------------------------------------- samples
st.subheader("Samples")
if ds.modality == "image":
    from ad_core.viz.images import image_grid

    per = st.slider("Samples per class", 4, 16, 8, step=4, key="data_per_class")
    x, titles, _ = catalogue.class_samples(ds, per_class=per, seed=int(seed))
    chart(image_grid(x, titles, ncols=per, title=f"{shown}: {per} random samples of each class"),
          key=f"grid-{name}-{per}-{seed}", filename=f"{slug}-samples")
    if task != "one-vs-rest":
        with user_errors():
            t = catalogue.build_choice_task(choice)
            kx, ktitles = catalogue.kind_samples(t, per_kind=per)
            what = "generated anomalies" if task == "testbed" else "test kinds"
            chart(image_grid(kx, ktitles, ncols=per,
                             title=f"The test set's {what}: {per} of each"),
                  key=f"kinds-{name}-{task}-{seed}-{per}", filename=f"{slug}-{task}-test-kinds")
else:
    st.markdown(f"{len(ds.y)} rows × {ds.x.shape[1]} features; class counts: "
                + ", ".join(f"{k} {v}" for k, v in counts.items()))
    x, titles, rows = catalogue.class_samples(ds, per_class=5, seed=int(seed))
    df = pd.DataFrame(x, columns=list(ds.feature_names or [f"f{i}" for i in range(x.shape[1])]))
    df.insert(0, "class", [s.removeprefix("class ") for s in titles])
    df.insert(0, "row", rows)
    st.dataframe(df, hide_index=True)
