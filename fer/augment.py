"""Decode validated faces and add augmented copies of the training split."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage

from fer.config import AugmentConfig, DataConfig
from fer.faces import FaceSet, faces_from_bytes, save_faces
from fer.plots import augmentation_grid

logger = logging.getLogger(__name__)

# Written beside the face arrays; training runs log it.
SAMPLE_GRID = "sample_grid.png"


def augmented_copies(faces: np.ndarray, augment_config: AugmentConfig) -> list[tuple[str, np.ndarray]]:
    """Return (transform name, copies of `faces`) for every augmentation the config enables."""
    copies = []
    if augment_config.horizontal_flip:
        copies.append(("horizontal_flip", faces[:, :, ::-1]))
    if augment_config.vertical_flip:
        copies.append(("vertical_flip", faces[:, ::-1, :]))
    rng = np.random.default_rng(augment_config.seed)
    for _ in range(augment_config.random_copies):
        copies.append(("random", np.stack([random_transform(face, rng, augment_config) for face in faces])))
    return copies


def random_transform(face: np.ndarray, rng: np.random.Generator, augment_config: AugmentConfig) -> np.ndarray:
    """Shift, rotate, zoom and brighten one uint8 face by amounts drawn up to the configured limits."""
    size = face.shape[0]
    angle = np.deg2rad(rng.uniform(-augment_config.max_rotation, augment_config.max_rotation))
    zoom = 1.0 + rng.uniform(-augment_config.max_zoom, augment_config.max_zoom)
    shift = rng.uniform(-augment_config.max_shift, augment_config.max_shift, size=2) * size
    brightness = 1.0 + rng.uniform(-augment_config.max_brightness, augment_config.max_brightness)

    # affine_transform maps output coordinates to input ones, so it takes the
    # inverse of "zoom and rotate about the centre, then shift".
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    inverse = rotation.T / zoom
    center = np.full(2, (size - 1) / 2)
    offset = center - inverse @ (center + shift)
    moved = ndimage.affine_transform(face.astype(np.float32), inverse, offset=offset, order=1, mode="nearest")
    return np.clip(np.rint(moved * brightness), 0, 255).astype(np.uint8)


def add_training_copies(face_set: FaceSet, augment_config: AugmentConfig) -> FaceSet:
    """Append the configured augmented copies of the training faces; other splits are untouched."""
    train = face_set.splits == "train"
    parts = [(face_set.faces, face_set.labels, face_set.splits, face_set.rows, face_set.transform)]
    for name, copies in augmented_copies(face_set.faces[train], augment_config):
        transform = np.full(len(copies), name)
        parts.append(
            (copies, face_set.labels[train], face_set.splits[train], face_set.rows[train], transform)
        )
    faces, labels, splits, rows, transform = (np.concatenate(column) for column in zip(*parts, strict=True))
    return FaceSet(
        faces=faces,
        labels=labels,
        splits=splits,
        rows=rows,
        transform=transform,
        class_names=face_set.class_names,
        has_usage=face_set.has_usage,
    )


def save_sample_grid(face_set: FaceSet, path: Path, count: int = 8) -> Path | None:
    """Save a PNG of the first `count` augmented faces below the faces they came from."""
    copies = np.flatnonzero(face_set.transform != "")[:count]
    if len(copies) == 0:
        return None
    originals = face_set.transform == ""
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
        faces=faces_from_bytes(table["face"]),
        labels=table["emotion"].to_numpy(dtype=np.uint8),
        splits=table["split"].to_numpy(dtype=str),
        rows=table["row"].to_numpy(dtype=np.int64),
        transform=np.full(len(table), ""),
        class_names=data.class_names,
        has_usage="usage" in table.columns,
    )
    face_set = add_training_copies(face_set, augment_config)
    save_faces(output, face_set)
    save_sample_grid(face_set, Path(output).with_name(SAMPLE_GRID))
    counts = {name: int((face_set.splits == name).sum()) for name in ("train", "validation", "test")}
    logger.info("Wrote %d faces to %s (splits: %s)", len(face_set.labels), output, counts)
    return Path(output)
