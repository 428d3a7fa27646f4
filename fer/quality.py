"""Data-quality checks beyond the expectation suite: blanks, duplicates, leaks, conflicts.

FER2013 has blank images, exact duplicates, faces that appear in both training
and test (which inflates test accuracy), and duplicates whose labels disagree.
The reader hashes each face's 2,304 bytes, so equal hashes mean equal faces.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from fer.config import QualityConfig

logger = logging.getLogger(__name__)

ROWS_LISTED = 50


def find_quality_issues(table: pd.DataFrame, quality: QualityConfig) -> dict[str, list[int]]:
    """Return the line numbers of each kind of issue in a validated table.

    `table` needs the columns row, emotion, face_hash, split, pixel_min and pixel_max.
    """
    face_hash = table["face_hash"]
    blank = (table["pixel_max"] - table["pixel_min"]) <= quality.blank_max_range
    within_split = face_hash.groupby(table["split"]).transform(lambda hashes: hashes.duplicated(keep=False))
    splits_per_face = table["split"].groupby(face_hash).transform("nunique")
    labels_per_face = table["emotion"].groupby(face_hash).transform("nunique")
    return {
        "blank": _rows(table, blank),
        "duplicate_within_split": _rows(table, within_split.astype(bool)),
        "duplicate_across_splits": _rows(table, splits_per_face > 1),
        "label_conflict": _rows(table, labels_per_face > 1),
    }


def rows_to_drop(table: pd.DataFrame, issues: dict[str, list[int]], quality: QualityConfig) -> set[int]:
    """Return the line numbers the configured policies remove."""
    drop: set[int] = set()
    if quality.blank_policy == "drop":
        drop.update(issues["blank"])
    if quality.label_conflict_policy == "drop":
        drop.update(issues["label_conflict"])
    crossing = table["row"].isin(issues["duplicate_across_splits"])
    if quality.cross_split_policy == "drop_from_train":
        drop.update(table.loc[crossing & (table["split"] == "train"), "row"].astype(int))
    elif quality.cross_split_policy == "drop_from_test":
        drop.update(table.loc[crossing & (table["split"] != "train"), "row"].astype(int))
    return drop


def class_balance(table: pd.DataFrame, class_names: tuple[str, ...]) -> dict[str, Any]:
    """Count faces per class in each split and the largest/smallest training class ratio."""
    counts = {
        split: {
            class_names[label]: int((group["emotion"] == label).sum()) for label in range(len(class_names))
        }
        for split, group in table.groupby("split")
    }
    train_counts = [count for count in counts.get("train", {}).values() if count > 0]
    ratio = max(train_counts) / min(train_counts) if train_counts else None
    return {"counts": counts, "largest_to_smallest_train_class": ratio}


def summarise(issues: dict[str, list[int]], dropped: set[int], balance: dict[str, Any]) -> dict[str, Any]:
    """Return a JSON-ready quality report: counts, the first line numbers and class balance."""
    return {
        "counts": {kind: len(rows) for kind, rows in issues.items()},
        "rows": {kind: rows[:ROWS_LISTED] for kind, rows in issues.items()},
        "dropped_by_policy": len(dropped),
        "dropped_rows": sorted(dropped)[:ROWS_LISTED],
        "class_balance": balance,
    }


def _rows(table: pd.DataFrame, mask: pd.Series) -> list[int]:
    return sorted(int(row) for row in table.loc[mask.fillna(False).astype(bool), "row"])
