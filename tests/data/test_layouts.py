"""Every FER2013 layout users arrive with, and the cache that skips a second parse."""

import gzip
import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from fer.config import load_config
from fer.csvparse import parse_csv
from fer.errors import DataError
from fer.facecache import load_csv
from fer.ingest import assign_splits, ingest, read_table
from fer.validate import validate
from tests.conftest import PROJECT_ROOT, rows_of_every_split

CONFIG = load_config(PROJECT_ROOT / "params.yaml")
# Keeps blank and conflicting faces, so a count of quarantined rows is all that changes.
KEEP_ALL = replace(CONFIG.quality, blank_policy="report", label_conflict_policy="report")


def _validate(folder, quality, docs_dir=None):
    return validate(
        folder / "faces.parquet",
        folder / "report.json",
        folder / "clean.parquet",
        folder / "quarantine.csv",
        CONFIG.data,
        quality,
        docs_dir,
    )


def _faces(rows: pd.DataFrame) -> np.ndarray:
    return np.stack([np.array(text.split(), dtype=np.uint8) for text in rows["pixels"]]).reshape(-1, 48, 48)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_every_line_ending_gives_the_same_faces(tmp_path, sample_table, newline):
    rows = sample_table.head(6)
    path = tmp_path / "faces.csv"
    path.write_bytes(rows.to_csv(index=False, lineterminator=newline).encode())
    parsed = parse_csv(path)
    assert np.array_equal(parsed.faces, _faces(rows))
    assert parsed.rows.tolist() == [2, 3, 4, 5, 6, 7]
    assert parsed.usage == rows["Usage"].tolist()


def test_reordered_columns_quotes_and_no_usage(tmp_path, sample_table):
    rows = sample_table.head(4)
    reordered = tmp_path / "reordered.csv.gz"
    with gzip.open(reordered, "wt") as handle:
        handle.write(" pixels, emotion\n")
        for pixels, emotion in zip(rows["pixels"], rows["emotion"], strict=True):
            handle.write(f'"{pixels}",{emotion}\n')
    table = read_table(reordered, CONFIG.data)
    assert "usage" not in table.columns
    assert table["emotion"].tolist() == rows["emotion"].tolist()
    assert table["problem"].tolist() == [""] * 4
    assert np.array_equal(parse_csv(reordered).faces, _faces(rows))


def test_extra_fields_are_quarantined(tmp_path, sample_table):
    rows = sample_table.copy()
    source = tmp_path / "faces.csv"
    lines = rows.to_csv(index=False).splitlines()
    lines[5] = lines[5] + ",oops"  # line 6 of the file has a fourth field
    source.write_text("\n".join(lines) + "\n")
    ingest(source, tmp_path / "faces.parquet", CONFIG.data)
    report = _validate(tmp_path, KEEP_ALL)
    assert report["quarantined_rows"] == 1
    quarantine = pd.read_csv(tmp_path / "quarantine.csv", dtype=str)
    assert quarantine.loc[0, "line"] == "6"
    assert quarantine.loc[0, "reason"] == "4 fields, expected 3 (emotion,pixels,Usage)"
    assert quarantine.loc[0, "extra_fields"] == "oops"
    assert quarantine.loc[0, "pixels"] == rows.loc[4, "pixels"]


def test_cache_serves_the_second_load_and_follows_content(tmp_path, sample_table):
    path = tmp_path / "faces.csv"
    sample_table.head(5).to_csv(path, index=False)
    cache = tmp_path / "cache"
    first = load_csv(path, cache)
    entries = list(cache.glob("*.npz"))
    assert len(entries) == 1
    second = load_csv(path, cache)
    assert np.array_equal(first.faces, second.faces)
    assert second.usage == first.usage
    assert second.emotion == first.emotion

    sample_table.head(7).to_csv(path, index=False)  # new content, new key
    third = load_csv(path, cache)
    assert len(third.rows) == 7
    assert len(list(cache.glob("*.npz"))) == 2


def _write_image(path, face: np.ndarray, mode: str = "L", size: int = 48) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(face)
    if mode != "L":
        image = image.convert(mode)
    if size != 48:
        image = image.resize((size, size))
    image.save(path)


@pytest.fixture()
def image_folder(tmp_path, sample_table):
    """Write the Kaggle image-folder edition: train/ and test/, lower-case class folders."""
    root = tmp_path / "fer2013_images"
    rows = rows_of_every_split(sample_table, 40)
    faces = _faces(rows)
    names = [name.lower() for name in CONFIG.data.class_names]
    for index, (face, label, usage) in enumerate(zip(faces, rows["emotion"], rows["Usage"], strict=True)):
        split = "train" if usage == "Training" else "test"
        suffix = ".jpg" if index % 5 == 0 else ".png"
        mode, size = ("RGB", 64) if index == 1 else ("L", 48)
        _write_image(root / split / names[label] / f"{index:04d}{suffix}", face, mode, size)
    return root, rows


def test_image_folder_maps_class_names(tmp_path, image_folder):
    root, rows = image_folder
    table = assign_splits(read_table(root, CONFIG.data), CONFIG.data)
    assert len(table) == len(rows)
    by_file = table.set_index("file")
    # Folder names are matched to data.class_names: neutral is 6, not its alphabetical place.
    neutral = [name for name in by_file.index if name.split("/")[1] == "neutral"]
    assert neutral and set(by_file.loc[neutral, "emotion"]) == {6}
    assert set(table["split"]) == {"train", "validation", "test"}  # validation carved from train
    assert (table["converted"] != "").sum() == 1
    assert "64x64 resized to 48x48" in table.loc[table["converted"] != "", "converted"].iloc[0]

    ingest(root, tmp_path / "faces.parquet", CONFIG.data)
    report = _validate(tmp_path, KEEP_ALL)
    assert report["conversions"]["converted_images"] == 1
    assert report["conversions"]["to_grayscale"] == 1


def test_unknown_class_and_broken_image_are_quarantined(tmp_path, image_folder):
    root, rows = image_folder
    _write_image(root / "train" / "contempt" / "x.png", np.zeros((48, 48), np.uint8))
    (root / "train" / "happy" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    table = read_table(root, CONFIG.data)
    problems = dict(zip(table["file"], table["problem"], strict=True))
    assert problems["train/contempt/x.png"].startswith("class folder 'contempt' is not in data.class_names")
    assert problems["train/happy/broken.png"].startswith("not a readable image")


def test_empty_folder_and_wrong_format(tmp_path, sample_csv):
    empty = tmp_path / "empty_folder"
    (empty / "train" / "happy").mkdir(parents=True)
    with pytest.raises(DataError, match=r"empty_folder: no \.png or \.jpg images found"):
        read_table(empty, CONFIG.data)
    with pytest.raises(DataError, match=r"data.format is 'folder' but this is a file"):
        read_table(sample_csv, replace(CONFIG.data, format="folder"))


def test_quarantine_keeps_original_fields_of_a_bad_label(tmp_path, sample_table):
    rows = rows_of_every_split(sample_table, 30)
    rows["emotion"] = rows["emotion"].astype(str)
    rows.loc[3, "emotion"] = "happy"
    source = tmp_path / "faces.csv"
    rows.to_csv(source, index=False)
    ingest(source, tmp_path / "faces.parquet", CONFIG.data)
    with pytest.raises(Exception, match="data.max_bad_fraction"):
        _validate(tmp_path, CONFIG.quality)
    quarantine = pd.read_csv(tmp_path / "quarantine.csv", dtype=str)
    assert quarantine.loc[0, "emotion"] == "happy"
    assert quarantine.loc[0, "pixels"] == rows.loc[3, "pixels"]
    assert json.loads((tmp_path / "report.json").read_text())["quarantined_rows"] == 1


def test_missing_label_and_missing_emotion_column(tmp_path, sample_table):
    rows = rows_of_every_split(sample_table, 3)
    rows["emotion"] = rows["emotion"].astype(str)
    rows.loc[1, "emotion"] = ""
    source = tmp_path / "faces.csv"
    rows.to_csv(source, index=False)
    table = read_table(source, CONFIG.data)
    assert table["emotion"].isna().tolist() == [False, True] + [False] * (len(rows) - 2)

    no_emotion = tmp_path / "no_emotion.csv"
    rows.drop(columns="emotion").to_csv(no_emotion, index=False)
    with pytest.raises(DataError, match=r"no_emotion.csv: missing column\(s\) emotion"):
        read_table(no_emotion, CONFIG.data)


def test_validation_writes_data_docs(tmp_path, sample_csv):
    ingest(sample_csv, tmp_path / "faces.parquet", CONFIG.data)
    report = _validate(tmp_path, CONFIG.quality, tmp_path / "data_docs")
    index = tmp_path / "data_docs" / "index.html"
    assert report["data_docs"] == str(index)
    assert index.is_file()
    assert list((tmp_path / "data_docs" / "validations").rglob("*.html"))
