"""Read a FER2013 CSV into a table and assign train/validation/test splits."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from fer.config import DataConfig
from fer.errors import DataError

logger = logging.getLogger(__name__)

# Kaggle's Usage values and the split each one feeds. PublicTest selects models and
# PrivateTest gives the headline accuracy, by the data set's convention.
USAGE_TO_SPLIT = {"Training": "train", "PublicTest": "validation", "PrivateTest": "test"}
SPLITS = ("train", "validation", "test")
REQUIRED_COLUMNS = ("emotion", "pixels")


def read_fer_csv(path: str | Path) -> pd.DataFrame:
    """Read a FER2013 CSV (plain or gzip) into a table with a `row` column.

    `row` is the line number in the file (the header is line 1), so every later
    message can point at the line a user opens in an editor. `emotion` is numeric
    where it parses and null where it does not; validation reports those rows.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: data file not found")
    try:
        table = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            compression=_compression(path),
            encoding="utf-8-sig",
        )
    except pd.errors.EmptyDataError as error:
        raise DataError(f"{path}: file is empty; expected a CSV header 'emotion,pixels[,Usage]'") from error
    except (UnicodeDecodeError, pd.errors.ParserError, OSError) as error:
        raise DataError(f"{path}: not a readable FER2013 CSV ({error})") from error

    table.columns = [str(name).strip() for name in table.columns]
    missing = [name for name in REQUIRED_COLUMNS if name not in table.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(table.columns)}")
    if table.empty:
        raise DataError(f"{path}: header but no rows; add faces as lines of emotion,pixels[,Usage]")

    table.insert(0, "row", pd.RangeIndex(2, len(table) + 2))
    table["emotion"] = pd.to_numeric(table["emotion"].str.strip(), errors="coerce").astype("Int64")
    labels = table["emotion"].dropna().unique()
    if len(labels) < 2:
        raise DataError(
            f"{path}: the faces have {len(labels)} distinct emotion label(s); a classifier needs "
            f"at least two classes"
        )
    if "Usage" in table.columns:
        table = table.rename(columns={"Usage": "usage"})
        table["usage"] = table["usage"].str.strip()
    return table


def assign_splits(table: pd.DataFrame, data: DataConfig) -> pd.DataFrame:
    """Add a `split` column from Usage, or a seeded stratified split when Usage is absent."""
    table = table.copy()
    if "usage" in table.columns:
        table["split"] = table["usage"].map(USAGE_TO_SPLIT)
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
    table = assign_splits(read_fer_csv(source), data)
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


def _compression(path: Path) -> str | None:
    # Sniff the gzip magic number so a gzip file without a .gz suffix still reads.
    with path.open("rb") as handle:
        return "gzip" if handle.read(2) == b"\x1f\x8b" else None
