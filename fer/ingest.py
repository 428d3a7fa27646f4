"""Read FER2013 from a CSV or an image folder into a table and assign splits.

The table has one row per CSV line (or image): the decoded face as 2,304 bytes,
the line number, the fields as read and what the reader found wrong. Validation
can then quarantine a bad row without parsing the file again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from fer.config import DataConfig
from fer.errors import DataError
from fer.rawfaces import PIXELS_PER_FACE, RawFaces

logger = logging.getLogger(__name__)

# Kaggle's Usage values and the split each one feeds. PublicTest selects models and
# PrivateTest gives the headline accuracy, by the data set's convention.
USAGE_TO_SPLIT = {"Training": "train", "PublicTest": "validation", "PrivateTest": "test"}
SPLITS = ("train", "validation", "test")
FORMATS = ("auto", "csv", "folder")


def source_format(source: Path, requested: str = "auto") -> str:
    """Return "csv" or "folder": what `requested` names, or what `source` is."""
    found = "folder" if source.is_dir() else "csv"
    if requested == "auto":
        return found
    if requested != found:
        kind = "a folder" if found == "folder" else "a file"
        raise DataError(f"{source}: data.format is {requested!r} but this is {kind}; set data.format to auto")
    return requested


def read_source(source: str | Path, data: DataConfig) -> RawFaces:
    """Read a CSV (through the content-hash cache) or an image folder."""
    source = Path(source)
    if source_format(source, data.format) == "folder":
        from fer.folders import read_image_folder

        raw = read_image_folder(source, data.class_names)
    else:
        from fer.csvparse import parse_csv
        from fer.facecache import load_csv

        raw = load_csv(source, data.cache_dir) if data.cache else parse_csv(source)
    raw.fill_pixel_range()
    return raw


def read_table(path: str | Path, data: DataConfig) -> pd.DataFrame:
    """Read a FER2013 CSV or image folder into a table with a `row` column.

    `row` is the line number in the file (the header is line 1), so every later
    message can point at the line a user opens in an editor. `emotion` is numeric
    where it parses and null where it does not; validation reports those rows.
    """
    raw = read_source(path, data)
    table = to_table(raw)
    labels = table["emotion"].dropna().unique()
    if len(labels) < 2:
        raise DataError(
            f"{path}: the faces have {len(labels)} distinct emotion label(s); a classifier needs "
            f"at least two classes"
        )
    return table


def to_table(raw: RawFaces) -> pd.DataFrame:
    """Turn what a reader found into the ingest table (one row per line or image)."""
    good = raw.pixel_count == PIXELS_PER_FACE
    ok = good & np.array([not problem for problem in raw.problem], dtype=bool)
    flat = raw.faces.reshape(len(raw.rows), -1)
    faces = [flat[i].tobytes() if ok[i] else None for i in range(len(raw.rows))]
    table = pd.DataFrame(
        {
            "row": raw.rows.astype(np.int64),
            "emotion": pd.to_numeric(pd.Series(raw.emotion, dtype=str).str.strip(), errors="coerce"),
        }
    )
    table["emotion"] = table["emotion"].where(table["emotion"] % 1 == 0).astype("Int64")
    if raw.usage is not None:
        # An image folder's split comes from its folder name, not from a Usage column.
        table["folder_split" if raw.files is not None else "usage"] = raw.usage
    table["field_count"] = raw.field_count.astype(np.int64)
    table["pixel_count"] = pd.array(np.where(raw.pixel_count >= 0, raw.pixel_count, -1), dtype="Int64")
    for name in ("pixel_min", "pixel_max"):
        values = getattr(raw, name)
        table[name] = pd.Series(values, dtype="Int64").where(values >= 0)
    table["problem"] = raw.problem
    # The fields as read, for the lines the parser could not take as they are.
    table["original"] = [json.dumps(raw.text[int(row)]) if int(row) in raw.text else None for row in raw.rows]
    unparsed = table["emotion"].isna() & table["original"].isna()
    table.loc[unparsed, "original"] = [
        json.dumps([raw.emotion[i], "", raw.usage[i] if raw.usage else ""]) for i in np.flatnonzero(unparsed)
    ]
    table["face"] = faces
    table["face_hash"] = [
        int.from_bytes(hashlib.blake2b(face, digest_size=8).digest(), "little", signed=True) if face else None
        for face in faces
    ]
    table["face_hash"] = table["face_hash"].astype("Int64")
    table.attrs["columns"] = list(raw.columns)
    table.attrs["field_count"] = len(raw.columns)
    if raw.files is not None:
        table["file"] = raw.files
        table["converted"] = raw.converted
    return table


def assign_splits(table: pd.DataFrame, data: DataConfig) -> pd.DataFrame:
    """Add a `split` column from Usage, or a seeded stratified split when Usage is absent."""
    table = table.copy()
    if "usage" in table.columns:
        table["split"] = table["usage"].map(USAGE_TO_SPLIT)
        return table
    if "folder_split" in table.columns:
        table["split"] = table["folder_split"]
        if not (table["split"] == "validation").any():
            # The usual image-folder edition has train and test only: validation comes from train.
            train = table.index[table["split"] == "train"]
            table.loc[_stratified_pick(table.loc[train], data.validation_fraction, data.seed), "split"] = (
                "validation"
            )
        return table

    # Each class is shuffled and cut on its own, so every split keeps the class
    # proportions. A class too small to give a split one face stays in training.
    # A missing label forms its own group, which validation reports by row.
    rng = np.random.default_rng(data.seed)
    table["split"] = "train"
    for _, members in table.groupby(table["emotion"].fillna(-1), sort=True):
        order = rng.permutation(members.index.to_numpy())
        validation_count = int(round(len(order) * data.validation_fraction))
        test_count = int(round(len(order) * data.test_fraction))
        table.loc[order[:validation_count], "split"] = "validation"
        table.loc[order[validation_count : validation_count + test_count], "split"] = "test"
    return table


def ingest(source: str | Path, output: str | Path, data: DataConfig) -> Path:
    """Read `source`, assign splits and write the table as Parquet to `output`."""
    output = Path(output)
    table = assign_splits(read_table(source, data), data)
    empty = [name for name in SPLITS if not (table["split"] == name).any()]
    if empty:
        raise DataError(
            f"{source}: no faces for the {' and '.join(empty)} split(s); with a Usage column, add "
            f"Training, PublicTest and PrivateTest rows, else give every class enough faces"
        )
    # Later stages name the CSV, not this intermediate file, in their messages.
    table.attrs["source"] = str(source)
    output.parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(output, index=False)
    counts = table["split"].value_counts().to_dict()
    logger.info("Ingested %d faces from %s into %s (splits: %s)", len(table), source, output, counts)
    return output


def _stratified_pick(table: pd.DataFrame, fraction: float, seed: int) -> list:
    # The index labels of a seeded `fraction` of each class.
    rng = np.random.default_rng(seed)
    picked = []
    for _, members in table.groupby(table["emotion"].fillna(-1), sort=True):
        order = rng.permutation(members.index.to_numpy())
        picked.extend(order[: int(round(len(order) * fraction))].tolist())
    return picked
