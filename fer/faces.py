"""Decode pixel strings and load the stored face arrays."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fer.errors import DataError
from fer.rawfaces import IMAGE_SIZE, PIXELS_PER_FACE


def faces_from_bytes(faces: pd.Series) -> np.ndarray:
    """Join the 2,304-byte faces of validated rows into a uint8 array of shape (n, 48, 48)."""
    joined = b"".join(faces.tolist())
    if len(joined) != len(faces) * PIXELS_PER_FACE:
        raise DataError(
            f"found {len(joined)} grey levels for {len(faces)} faces; "
            f"expected {PIXELS_PER_FACE} per face (validate the data first)"
        )
    return np.frombuffer(joined, dtype=np.uint8).reshape(len(faces), IMAGE_SIZE, IMAGE_SIZE).copy()


@dataclass(frozen=True)
class FaceSet:
    """Faces with their labels, split names, source line numbers and augmentation.

    `transform` is empty for a face as read and names the augmentation
    (horizontal_flip, vertical_flip, random) for a copy. A copy's `rows` entry is
    the line of the training face it came from.
    """

    faces: np.ndarray
    labels: np.ndarray
    splits: np.ndarray
    rows: np.ndarray
    transform: np.ndarray
    class_names: tuple[str, ...]
    has_usage: bool

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (faces with a channel axis, labels) of one split."""
        mask = self.splits == name
        return self.faces[mask][..., np.newaxis], self.labels[mask]

    def split_label(self, name: str) -> str:
        """Return the name users know a split by: the Kaggle Usage value when there is one."""
        if not self.has_usage:
            return name
        return {"train": "Training", "validation": "PublicTest", "test": "PrivateTest"}[name]


def save_faces(path: str | Path, face_set: FaceSet) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Uncompressed: the arrays load in well under a second and DVC stores the file once.
    np.savez(
        path,
        faces=face_set.faces,
        labels=face_set.labels,
        splits=face_set.splits,
        rows=face_set.rows,
        transform=face_set.transform,
        class_names=np.array(face_set.class_names),
        has_usage=np.array(face_set.has_usage),
    )
    return path


def load_faces(path: str | Path) -> FaceSet:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: face array file not found; run the augment stage first")
    with np.load(path, allow_pickle=False) as stored:
        return FaceSet(
            faces=stored["faces"],
            labels=stored["labels"],
            splits=stored["splits"],
            rows=stored["rows"],
            transform=stored["transform"],
            class_names=tuple(str(name) for name in stored["class_names"]),
            has_usage=bool(stored["has_usage"]),
        )
