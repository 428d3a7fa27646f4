"""Find faces in photos and cut them to the 48x48 grey crops the classifiers take.

The detector is MTCNN (Zhang et al., 2016) from the `mtcnn` package, which ships
its weights and runs on TensorFlow, so detection works offline. An image that
is already 48x48 is taken as a face crop and skips detection.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image

from fer.rawfaces import IMAGE_SIZE

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Box:
    """A face's bounding box in image pixels, and the detector's confidence."""

    x: int
    y: int
    width: int
    height: int
    confidence: float = 1.0

    def as_list(self) -> list[int]:
        return [self.x, self.y, self.width, self.height]


def is_face_crop(rgb: np.ndarray) -> bool:
    """Return whether the image is already a face crop of the classifiers' size."""
    return rgb.shape[:2] == (IMAGE_SIZE, IMAGE_SIZE)


def find_faces(rgb: np.ndarray, min_confidence: float) -> list[Box]:
    """Return the faces MTCNN finds in an RGB image, left to right."""
    if min(rgb.shape[:2]) < 12:
        return []  # Below MTCNN's smallest window.
    detections = _detector().detect_faces(rgb)
    boxes = [
        Box(*(int(value) for value in detection["box"]), confidence=float(detection["confidence"]))
        for detection in detections
        if detection["confidence"] >= min_confidence
    ]
    return sorted(boxes, key=lambda box: (box.x, box.y))


def crop_face(rgb: np.ndarray, box: Box) -> np.ndarray:
    """Cut the square around `box` and return it as 48x48 grey levels (uint8).

    The square is centred on the box and as wide as the box's longer side, so the
    face keeps its proportions. Parts outside the image are black.
    """
    side = max(box.width, box.height, 1)
    left = box.x + box.width // 2 - side // 2
    top = box.y + box.height // 2 - side // 2
    grey = Image.fromarray(rgb).convert("L")
    square = grey.crop((left, top, left + side, top + side))
    return np.asarray(square.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.LANCZOS))


def to_grey(rgb: np.ndarray) -> np.ndarray:
    """Return an RGB image as grey levels (uint8), with PIL's ITU-R 601 weights."""
    return np.asarray(Image.fromarray(rgb).convert("L"))


@cache
def _detector():
    import tensorflow as tf
    from mtcnn import MTCNN

    device = "GPU:0" if tf.config.list_physical_devices("GPU") else "CPU:0"
    logger.info("Loading the MTCNN face detector on %s", device)
    return MTCNN(device=device)
