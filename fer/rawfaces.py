"""Faces as read from a source, before validation: one entry per CSV line or image file."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

IMAGE_SIZE = 48
PIXELS_PER_FACE = IMAGE_SIZE * IMAGE_SIZE


@dataclass
class RawFaces:
    """What a reader found, one entry per data line (CSV) or image (folder).

    `rows` numbers the entries as users find them: the line in the CSV (the
    header is line 1) or the position in the sorted file list. `faces` contains
    zeros where `problem` is set. `problem` is empty for an entry that decoded,
    else it describes what is wrong, and `text` keeps such a line's original
    fields. `pixel_min` and `pixel_max` are -1 until computed. `files` and
    `converted` are set for image folders only.
    """

    columns: list[str]
    rows: np.ndarray
    emotion: list[str]
    usage: list[str] | None
    faces: np.ndarray
    pixel_count: np.ndarray
    pixel_min: np.ndarray
    pixel_max: np.ndarray
    field_count: np.ndarray
    problem: list[str]
    text: dict[int, list[str]] = field(default_factory=dict)
    files: list[str] | None = None
    converted: list[str] | None = None

    def fill_pixel_range(self) -> None:
        """Set pixel_min and pixel_max of every face that decoded."""
        good = self.pixel_count == PIXELS_PER_FACE
        unset = good & (self.pixel_max < 0)
        if unset.any():
            flat = self.faces[unset].reshape(int(unset.sum()), -1)
            self.pixel_min[unset] = flat.min(axis=1)
            self.pixel_max[unset] = flat.max(axis=1)
