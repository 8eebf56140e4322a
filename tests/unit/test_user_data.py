"""The user's own data: CSV tables, image folders/zips (with the zip safety rules) and uploads."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ad_core.data import load_dataset
from ad_core.data import user as U
from ad_core.data.base import REPO_ROOT
from ad_core.errors import BadDataError, UnknownNameError
from ad_core.tasks import one_vs_rest


def write(tmp_path: Path, text: str | bytes, name: str = "t.csv") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    return p


def png(arr: np.ndarray, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format=fmt)
    return buf.getvalue()


def grey(h: int, w: int, v: int) -> np.ndarray:
    return np.full((h, w), v, np.uint8)


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


# ============================================================================== CSV
def test_csv_with_text_labels(tmp_path):
    p = write(tmp_path, "a,b,label\n1,2,normal\n3,4.5,fraud\n5,6,normal\n")
    ds = load_dataset(f"csv:{p}")
    assert ds.name == f"csv:{p}" and ds.modality == "tabular"
    assert ds.class_names == ("fraud", "normal")
    assert ds.y.tolist() == [1, 0, 1]
    assert ds.feature_names == ("a", "b")
    np.testing.assert_allclose(ds.x.numpy(), [[1, 2], [3, 4.5], [5, 6]])


def test_csv_numeric_labels_sort_numerically_and_named_column(tmp_path):
    p = write(tmp_path, "x;cls;y\n1;10;2\n2;2;3\n3;10;4\n4;2.0;5\n")  # semicolons
    ds = U.load_csv(p, label_column="cls")
    assert ds.class_names == ("2", "10") and ds.y.tolist() == [1, 0, 1, 0]
    assert ds.feature_names == ("x", "y")
    with pytest.raises(UnknownNameError, match="cls"):
        U.load_csv(p, label_column="klass")


def test_csv_without_label_column_is_refused_at_load(tmp_path):
    p = write(tmp_path, "a,b\n1,2\n3,4\n")
    with pytest.raises(BadDataError, match="label column is needed"):
        U.load_csv(p)


@pytest.mark.parametrize("content,match", [
    ("", "empty"),
    ("   \n\n", "empty"),
    ("a,b,label\n", "no data rows"),
    ("a,color,label\n1,red,0\n2,blue,1\n", "column 'color' is not numeric"),
    ("a,b,label\n1,2,0\n3,,1\n4,nan,1\n5,6,0\n", "2 of 4 rows have missing"),
    ("a,b,label\n1,2,0\n3,4,5,1\n", "line 3 has 4 values"),
    ("a,b,label\n1,2\n", "line 2 has 2 values"),
    ("a,b,label\n1,2,x\n3,4,x\n", "at least two classes"),
    ("a,b,label\n1,2,0\n3,4,\n", "no value in the label column"),
    ("1,2,3\n4,5,6\n", "first row should name the columns"),
    ("a,a,label\n1,2,0\n3,4,1\n", "more than once"),
    ("label\n0\n1\n", "only the label column"),
    ("a,b,label\n1,inf,0\n3,4,1\n", "1 of 2 rows"),
])
def test_csv_mistakes_are_one_sentence(tmp_path, content, match):
    p = write(tmp_path, content)
    with pytest.raises(BadDataError, match=match) as e:
        U.load_csv(p)
    assert "\n" not in str(e.value)


def test_csv_not_utf8(tmp_path):
    p = write(tmp_path, "a,b,label\n1,2,caf\xe9\n".encode("latin-1"))
    with pytest.raises(BadDataError, match="not UTF-8"):
        U.load_csv(p)


def test_csv_missing_file(tmp_path):
    with pytest.raises(BadDataError, match="no CSV file"):
        load_dataset(f"csv:{tmp_path / 'nope.csv'}")


def test_example_csv_is_a_usable_task():
    ds = U.load_csv(REPO_ROOT / "assets" / "example.csv")
    assert len(ds.y) == 200 and ds.class_names == ("benign", "malignant")
    task = one_vs_rest(ds, "benign", seed=0)
    assert 0 < task.contamination < 1 and len(task.train_x) > 50


# ============================================================================== images
def _class_zip(tmp_path: Path, name: str = "imgs.zip", rgb_one: bool = False) -> Path:
    members = {}
    for k in range(3):
        members[f"cats/{k}.png"] = png(grey(16, 16, 200))
        members[f"dogs/{k}.png"] = png(grey(16, 16, 50))
    members["dogs/big.png"] = png(grey(32, 24, 100))  # an odd size, resized to 16×16
    members["cats/notes.txt"] = b"ignored"
    members["__MACOSX/cats/._0.png"] = b"resource fork"
    if rgb_one:
        rgb = np.zeros((16, 16, 3), np.uint8)
        rgb[..., 0] = 255
        members["cats/red.jpg"] = png(rgb, "JPEG")
    return make_zip(tmp_path / name, members)


def test_zip_of_class_folders_loads_grey_at_most_common_size(tmp_path):
    ds = load_dataset(f"images:{_class_zip(tmp_path)}")
    assert ds.class_names == ("cats", "dogs") and ds.modality == "image"
    assert ds.x.shape == (7, 1, 16, 16)
    assert ds.y.tolist().count(0) == 3 and ds.y.tolist().count(1) == 4
    cats = ds.x[ds.y == 0]
    assert torch.allclose(cats, torch.full_like(cats, 200 / 255))
    big = ds.x[ds.extra["files"].index("dogs/big.png")]
    assert torch.allclose(big, torch.full_like(big, 100 / 255), atol=1e-5)


def test_rgb_when_any_image_has_colour_and_size_option(tmp_path):
    ds = U.load_image_folder(_class_zip(tmp_path, rgb_one=True), size=8)
    assert ds.x.shape == (8, 3, 8, 8)
    red = ds.x[ds.extra["files"].index("cats/red.jpg")]
    assert red[0].mean() > 0.9 and red[1].mean() < 0.1
    with pytest.raises(BadDataError, match="size"):
        U.load_image_folder(_class_zip(tmp_path, "b.zip"), size=2)


def test_folder_with_a_wrapping_folder(tmp_path):
    for cls, v in (("a", 10), ("b", 240)):
        d = tmp_path / "set" / "inner" / cls
        d.mkdir(parents=True)
        for k in range(2):
            (d / f"{k}.png").write_bytes(png(grey(8, 8, v)))
    ds = U.load_image_folder(tmp_path / "set")
    assert ds.class_names == ("a", "b") and ds.x.shape == (4, 1, 8, 8)
    assert ds.name == f"images:{tmp_path / 'set'}"


@pytest.mark.parametrize("member,match", [
    ("../evil/0.png", "climbs out"),
    ("a/../../0.png", "climbs out"),
    ("/etc/0.png", "absolute path"),
    ("C:/win/0.png", "absolute path"),
])
def test_zip_refuses_unsafe_paths(tmp_path, member, match):
    p = make_zip(tmp_path / "bad.zip", {"a/0.png": png(grey(4, 4, 1)),
                                        "b/0.png": png(grey(4, 4, 2)), member: png(grey(4, 4, 3))})
    with pytest.raises(BadDataError, match=match):
        U.load_image_folder(p)


def test_zip_refuses_symlinks(tmp_path):
    p = tmp_path / "link.zip"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("a/0.png", png(grey(4, 4, 1)))
        info = zipfile.ZipInfo("b/0.png")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(info, "/etc/passwd")
    with pytest.raises(BadDataError, match="symbolic link"):
        U.load_image_folder(p)


def test_zip_size_and_count_limits(tmp_path, monkeypatch):
    p = _class_zip(tmp_path)
    monkeypatch.setattr(U, "MAX_MEMBERS", 5)
    with pytest.raises(BadDataError, match="entries; the limit is 5"):
        U.load_image_folder(p)
    monkeypatch.setattr(U, "MAX_MEMBERS", 20_000)
    monkeypatch.setattr(U, "MAX_MEMBER_BYTES", 50)
    with pytest.raises(BadDataError, match="larger than"):
        U.load_image_folder(p)
    monkeypatch.setattr(U, "MAX_MEMBER_BYTES", 20 * 2**20)
    monkeypatch.setattr(U, "MAX_TOTAL_BYTES", 300)
    with pytest.raises(BadDataError, match="unpacks to more than"):
        U.load_image_folder(p)


def test_corrupt_images_are_named(tmp_path):
    good = png(grey(8, 8, 9))
    p = make_zip(tmp_path / "c.zip", {"a/0.png": good, "a/1.png": good[:40],
                                      "b/0.png": good, "b/x.jpg": b"\xff\xd8 not a jpeg"})
    with pytest.raises(BadDataError) as e:
        U.load_image_folder(p)
    assert "2 images cannot be read" in str(e.value)
    assert "a/1.png" in str(e.value) and "b/x.jpg" in str(e.value)


@pytest.mark.parametrize("members,match", [
    ({"0.png": None, "a/1.png": None}, "outside any class folder"),
    ({"a/0.png": None, "a/1.png": None}, "one class folder"),
    ({"a/readme.txt": b"hi"}, "no PNG or JPEG"),
])
def test_image_layout_mistakes(tmp_path, members, match):
    members = {k: v if v is not None else png(grey(4, 4, 7)) for k, v in members.items()}
    with pytest.raises(BadDataError, match=match):
        U.load_image_folder(make_zip(tmp_path / "m.zip", members))


def test_not_a_zip(tmp_path):
    p = write(tmp_path, b"PK\x03\x04 truncated", "x.zip")
    with pytest.raises(BadDataError, match="not a readable zip"):
        U.load_image_folder(p)
    with pytest.raises(BadDataError, match="neither a folder nor a .zip"):
        U.load_image_folder(write(tmp_path, "a", "x.txt"))


# ============================================================================== uploads
def test_upload_csv_is_stored_and_reloadable(data_dir):
    data = (REPO_ROOT / "assets" / "example.csv").read_bytes()
    ds = U.load_uploaded("../My data.csv", data)
    path = Path(ds.name[len("csv:"):])
    assert path.parent == data_dir / "uploads" and path.name.endswith("-My_data.csv")
    assert path.read_bytes() == data
    again = load_dataset(ds.name)
    assert torch.equal(again.x, ds.x) and again.class_names == ds.class_names
    assert U.load_uploaded("copy.csv", data).x.shape == ds.x.shape


def test_upload_zip_and_label_column(tmp_path):
    ds = U.load_uploaded("pics.zip", _class_zip(tmp_path).read_bytes())
    assert ds.name.startswith("images:") and ds.n_classes == 2
    tab = U.load_uploaded("t.csv", b"f,kind\n1,a\n2,b\n3,a\n", label_column="kind")
    assert tab.class_names == ("a", "b")


def test_upload_refusals(monkeypatch):
    with pytest.raises(BadDataError, match=".csv table or a .zip"):
        U.load_uploaded("model.pkl", b"x")
    with pytest.raises(BadDataError, match="empty"):
        U.load_uploaded("e.csv", b"")
    monkeypatch.setattr(U, "MAX_UPLOAD_BYTES", 10)
    with pytest.raises(BadDataError, match="the limit is"):
        U.load_uploaded("big.csv", b"a,label\n" + b"1,0\n" * 10)


def test_memory_guards(tmp_path, monkeypatch):
    p = _class_zip(tmp_path)
    monkeypatch.setattr(U, "MAX_IMAGE_PIXELS", 600)  # dogs/big.png is 32×24 = 768 pixels
    with pytest.raises(U.ImageTooLargeError, match="24 pixels wide and 32 high"):
        U.load_image_folder(p)
    monkeypatch.setattr(U, "MAX_IMAGE_PIXELS", 4096 * 4096)
    monkeypatch.setattr(U, "MAX_TENSOR_BYTES", 7 * 16 * 16 * 4 - 1)
    with pytest.raises(BadDataError, match="choose a smaller size"):
        U.load_image_folder(p)
    ds = U.load_uploaded("pics.zip", p.read_bytes(), size=8)
    assert ds.x.shape == (7, 1, 8, 8)
