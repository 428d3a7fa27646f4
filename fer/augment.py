"""Decode validated faces and add augmented copies of the training split."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from fer.config import AugmentConfig, DataConfig
from fer.faces import FaceSet, decode_pixels, save_faces
from fer.plots import augmentation_grid

logger = logging.getLogger(__name__)

# Written beside the face arrays; training runs log it.
SAMPLE_GRID = "sample_grid.png"


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


def save_sample_grid(face_set: FaceSet, path: Path, count: int = 8) -> Path | None:
    """Save a PNG of the first `count` augmented faces below the faces they came from."""
    copies = np.flatnonzero(face_set.flipped)[:count]
    if len(copies) == 0:
        return None
    originals = ~face_set.flipped
    source_index = {
        int(row): index
        for index, row in zip(np.flatnonzero(originals), face_set.rows[originals], strict=True)
    }
    sources = [source_index[int(face_set.rows[index])] for index in copies]
    labels = [face_set.class_names[face_set.labels[index]] for index in sources]
    figure = augmentation_grid(
        face_set.faces[sources], face_set.faces[copies], labels, "Augmented training faces"
    )
    figure.savefig(path, dpi=80)
    return path


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
    save_sample_grid(face_set, Path(output).with_name(SAMPLE_GRID))
    counts = {name: int((face_set.splits == name).sum()) for name in ("train", "validation", "test")}
    logger.info("Wrote %d faces to %s (splits: %s)", len(face_set.labels), output, counts)
    return Path(output)
