"""Decode validated faces and add augmented copies of the training split."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from fer.config import AugmentConfig, DataConfig
from fer.faces import FaceSet, decode_pixels, save_faces

logger = logging.getLogger(__name__)


def add_flipped_training_faces(face_set: FaceSet) -> FaceSet:
    """Append a mirrored copy of every training face; other splits are untouched."""
    train = face_set.splits == "train"
    mirrored = face_set.faces[train][:, :, ::-1]
    return FaceSet(
        faces=np.concatenate([face_set.faces, mirrored]),
        labels=np.concatenate([face_set.labels, face_set.labels[train]]),
        splits=np.concatenate([face_set.splits, face_set.splits[train]]),
        rows=np.concatenate([face_set.rows, face_set.rows[train]]),
        flipped=np.concatenate([face_set.flipped, np.ones(int(train.sum()), dtype=bool)]),
        class_names=face_set.class_names,
        has_usage=face_set.has_usage,
    )


def augment(
    table_path: str | Path, output: str | Path, augment_config: AugmentConfig, data: DataConfig
) -> Path:
    """Decode the validated table and write the (augmented) faces as uint8 arrays."""
    table = pd.read_parquet(table_path)
    face_set = FaceSet(
        faces=decode_pixels(table["pixels"]),
        labels=table["emotion"].to_numpy(dtype=np.uint8),
        splits=table["split"].to_numpy(dtype=str),
        rows=table["row"].to_numpy(dtype=np.int64),
        flipped=np.zeros(len(table), dtype=bool),
        class_names=data.class_names,
        has_usage="usage" in table.columns,
    )
    if augment_config.horizontal_flip:
        face_set = add_flipped_training_faces(face_set)
    save_faces(output, face_set)
    counts = {name: int((face_set.splits == name).sum()) for name in ("train", "validation", "test")}
    logger.info("Wrote %d faces to %s (splits: %s)", len(face_set.labels), output, counts)
    return Path(output)
