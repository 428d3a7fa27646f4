"""Reading FER2013 CSVs and assigning splits."""

import gzip

import pandas as pd
import pytest

from fer.config import load_config
from fer.errors import DataError
from fer.ingest import assign_splits, ingest, read_table
from tests.conftest import PROJECT_ROOT


@pytest.fixture(scope="module")
def data_config():
    return load_config(PROJECT_ROOT / "params.yaml").data


def test_kaggle_gzip_maps_usage_to_splits(sample_csv, data_config):
    table = assign_splits(read_table(sample_csv, data_config), data_config)
    assert table["split"].value_counts().to_dict() == {"train": 240, "validation": 60, "test": 60}
    assert table["row"].iloc[0] == 2  # The header is line 1.


def test_plain_csv_with_bom_and_spaced_header(tmp_path, sample_table, data_config):
    path = tmp_path / "faces.csv"
    text = sample_table.head(5).to_csv(index=False).replace("emotion,pixels,Usage", "emotion, pixels, Usage")
    path.write_bytes("\ufeff".encode() + text.encode())
    table = read_table(path, data_config)
    assert table["emotion"].tolist() == sample_table.head(5)["emotion"].tolist()
    assert table["usage"].tolist() == sample_table.head(5)["Usage"].tolist()


def test_split_without_usage_is_stratified_and_seeded(tmp_path, sample_table, data_config):
    path = tmp_path / "no_usage.csv"
    sample_table.drop(columns="Usage").to_csv(path, index=False)
    first = assign_splits(read_table(path, data_config), data_config)
    second = assign_splits(read_table(path, data_config), data_config)
    assert first["split"].tolist() == second["split"].tolist()
    counts = first["split"].value_counts()
    assert counts["validation"] == pytest.approx(36, abs=2)
    assert counts["test"] == pytest.approx(36, abs=2)
    # Every class present in the data is also present in training.
    assert set(first.loc[first["split"] == "train", "emotion"]) == set(first["emotion"])


def test_missing_pixels_column_is_named(tmp_path, data_config):
    path = tmp_path / "bad.csv"
    path.write_text("emotion,Usage\n0,Training\n")
    with pytest.raises(DataError, match=r"bad.csv: missing column\(s\) pixels"):
        read_table(path, data_config)


def test_empty_file_and_header_only(tmp_path, data_config):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="empty.csv: file is empty"):
        read_table(empty, data_config)
    header = tmp_path / "header.csv.gz"
    with gzip.open(header, "wt") as handle:
        handle.write("emotion,pixels,Usage\n")
    with pytest.raises(DataError, match="header.csv.gz: header but no rows"):
        read_table(header, data_config)


def test_binary_file_is_rejected(tmp_path, data_config):
    path = tmp_path / "photo.csv"
    path.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(DataError, match="photo.csv"):
        read_table(path, data_config)


def test_non_numeric_label_becomes_null(tmp_path, sample_table, data_config):
    rows = sample_table.head(3).copy()
    rows["emotion"] = rows["emotion"].astype(str)
    rows.loc[1, "emotion"] = "happy"
    path = tmp_path / "labels.csv"
    rows.to_csv(path, index=False)
    table = read_table(path, data_config)
    assert pd.isna(table.loc[1, "emotion"])


def test_empty_split_is_rejected(tmp_path, sample_table, data_config):
    source = tmp_path / "training_only.csv"
    sample_table[sample_table["Usage"] == "Training"].head(30).to_csv(source, index=False)
    with pytest.raises(DataError, match=r"training_only.csv: no faces for the validation and test split"):
        ingest(source, tmp_path / "faces.parquet", data_config)


def test_single_class_is_rejected(tmp_path, sample_table, data_config):
    source = tmp_path / "happy_only.csv"
    sample_table[sample_table["emotion"] == 3].to_csv(source, index=False)
    with pytest.raises(DataError, match=r"happy_only.csv: the faces have 1 distinct emotion label"):
        read_table(source, data_config)
