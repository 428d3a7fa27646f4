"""The Great Expectations suite: passes on real faces, names the rows it rejects."""

from dataclasses import replace

import pandas as pd
import pytest

from fer.config import load_config
from fer.errors import DataValidationError
from fer.ingest import ingest
from fer.validate import validate
from tests.conftest import PROJECT_ROOT, rows_of_every_split


@pytest.fixture(scope="module")
def data_config():
    return load_config(PROJECT_ROOT / "params.yaml").data


QUALITY = load_config(PROJECT_ROOT / "params.yaml").quality


def _validate(table, folder, data_config, quality=QUALITY):
    return validate(
        table,
        folder / "report.json",
        folder / "clean.parquet",
        folder / "quarantine.csv",
        data_config,
        quality,
    )


def _ingest_rows(tmp_path, rows: pd.DataFrame, data_config):
    source = tmp_path / "faces.csv"
    rows.to_csv(source, index=False)
    return ingest(source, tmp_path / "faces.parquet", data_config)


def test_suite_passes_on_real_faces(tmp_path, sample_csv, data_config):
    table = ingest(sample_csv, tmp_path / "faces.parquet", data_config)
    report = _validate(table, tmp_path, data_config)
    assert report["success"]
    assert report["rows"] == 360
    assert (tmp_path / "report.json").is_file()


def test_short_pixel_row_is_named_by_line(tmp_path, sample_table, data_config):
    rows = rows_of_every_split(sample_table, 7)
    rows.loc[4, "pixels"] = " ".join(rows.loc[4, "pixels"].split()[:-1])  # 2,303 grey levels
    table = _ingest_rows(tmp_path, rows, data_config)
    with pytest.raises(DataValidationError) as raised:
        _validate(table, tmp_path, data_config)
    message = str(raised.value)
    # Data frame index 4 is line 6 of the file: the header is line 1.
    assert "expect_column_values_to_be_between(pixel_count) failed on line(s) 6" in message
    assert "expected 2304" in message
    assert "quarantine.csv" in message


def test_each_bad_field_is_reported(tmp_path, sample_table, data_config):
    rows = rows_of_every_split(sample_table, 7)
    rows.loc[2, "emotion"] = 9
    rows.loc[7, "Usage"] = "Validation"
    rows.loc[11, "pixels"] = "300 " + " ".join(rows.loc[11, "pixels"].split()[1:])
    table = _ingest_rows(tmp_path, rows, data_config)
    with pytest.raises(DataValidationError) as raised:
        _validate(table, tmp_path, data_config)
    message = str(raised.value)
    assert "expect_column_values_to_be_in_set(emotion) failed on line(s) 4 (values: 9;" in message
    assert "expected one of 0, 1, 2, 3, 4, 5, 6" in message
    assert "expect_column_values_to_be_in_set(usage) failed on line(s) 9" in message
    assert "expect_column_values_to_be_between(pixel_max) failed on line(s) 13" in message
    # The message names the CSV the line numbers refer to, not the intermediate table.
    assert str(tmp_path / "faces.csv") in message


def test_non_numeric_pixel_fails_the_pattern(tmp_path, sample_table, data_config):
    rows = rows_of_every_split(sample_table, 2)
    rows.loc[0, "pixels"] = rows.loc[0, "pixels"].replace(" ", " x", 1)
    table = _ingest_rows(tmp_path, rows, data_config)
    with pytest.raises(DataValidationError, match=r"between\(pixel_count\) failed on line\(s\) 2"):
        _validate(table, tmp_path, data_config)
    quarantine = pd.read_csv(tmp_path / "quarantine.csv", dtype=str)
    assert quarantine.loc[0, "reason"] == "pixels: expected integers separated by single spaces"


def test_few_bad_rows_are_quarantined(tmp_path, sample_table, data_config):
    rows = sample_table.copy()
    rows.loc[10, "emotion"] = 7
    rows.loc[20, "pixels"] = rows.loc[20, "pixels"] + " 12"  # 2,305 grey levels
    table = _ingest_rows(tmp_path, rows, data_config)
    report = _validate(table, tmp_path, data_config)

    # 2 of 360 rows is 0.6%, under the default limit of 1%.
    assert report["quarantined_rows"] == 2
    clean = pd.read_parquet(tmp_path / "clean.parquet")
    assert len(clean) == 358
    assert not clean["row"].isin([12, 22]).any()
    quarantine = pd.read_csv(tmp_path / "quarantine.csv", dtype={"pixels": str})
    assert quarantine["line"].tolist() == [12, 22]
    assert quarantine.loc[0, "reason"] == "emotion 7: expected one of 0, 1, 2, 3, 4, 5, 6"
    assert quarantine.loc[1, "reason"] == "pixels: 2305 grey levels, expected 2304"
    # The original fields are kept, so nothing of a bad row is lost.
    assert quarantine.loc[1, "pixels"] == rows.loc[20, "pixels"]


def test_clean_data_writes_empty_quarantine(tmp_path, sample_csv, data_config):
    table = ingest(sample_csv, tmp_path / "faces.parquet", data_config)
    _validate(table, tmp_path, data_config)
    quarantine = pd.read_csv(tmp_path / "quarantine.csv")
    assert quarantine.empty
    assert list(quarantine.columns[:2]) == ["line", "reason"]


def test_quality_checks_find_and_drop_by_policy(tmp_path, sample_table, data_config):
    rows = sample_table.copy()
    train = rows.index[rows["Usage"] == "Training"]
    test = rows.index[rows["Usage"] == "PrivateTest"]
    rows.loc[train[0], "pixels"] = " ".join(["7"] * 2304)  # Blank: one grey level.
    rows.loc[train[1], "pixels"] = rows.loc[test[0], "pixels"]  # Leak: a test face in training.
    rows.loc[train[1], "emotion"] = rows.loc[test[0], "emotion"]
    rows.loc[train[2], "pixels"] = rows.loc[train[3], "pixels"]  # Conflict: same face, other label.
    rows.loc[train[2], "emotion"] = (rows.loc[train[3], "emotion"] + 1) % 7
    lines = {
        name: int(index) + 2
        for name, index in {
            "blank": train[0],
            "leak": train[1],
            "leaked": test[0],
            "a": train[2],
            "b": train[3],
        }.items()
    }
    table = _ingest_rows(tmp_path, rows, data_config)
    report = _validate(table, tmp_path, data_config)

    quality = report["quality"]
    assert lines["blank"] in quality["rows"]["blank"]
    assert {lines["leak"], lines["leaked"]} <= set(quality["rows"]["duplicate_across_splits"])
    assert {lines["a"], lines["b"]} <= set(quality["rows"]["label_conflict"])
    assert {lines["a"], lines["b"]} <= set(quality["rows"]["duplicate_within_split"])
    assert quality["class_balance"]["largest_to_smallest_train_class"] > 1

    clean_rows = set(pd.read_parquet(tmp_path / "clean.parquet")["row"])
    # Defaults: drop blanks, drop the training copy of a leaked face, drop every conflicting copy.
    assert lines["blank"] not in clean_rows
    assert lines["leak"] not in clean_rows
    assert lines["leaked"] in clean_rows
    assert lines["a"] not in clean_rows
    assert lines["b"] not in clean_rows


def test_report_policy_keeps_every_row(tmp_path, sample_table, data_config):
    rows = sample_table.copy()
    rows.loc[0, "pixels"] = " ".join(["0"] * 2304)
    table = _ingest_rows(tmp_path, rows, data_config)
    keep_all = replace(
        QUALITY, blank_policy="report", cross_split_policy="report", label_conflict_policy="report"
    )
    report = _validate(table, tmp_path, data_config, keep_all)
    assert report["quality"]["counts"]["blank"] >= 1
    assert report["quality"]["dropped_by_policy"] == 0
    assert len(pd.read_parquet(tmp_path / "clean.parquet")) == len(rows)
