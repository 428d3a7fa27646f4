"""Read the image-folder edition of FER2013: `<split>/<class name>/*.png|jpg`.

Class folders map to label codes by name through data.class_names (so
`neutral` is 6 in the usual order), never by alphabetical folder order. Split
folders map to train, validation and test; without a validation folder, the
ingest step sets part of training aside. An image that is not 48x48 grayscale is
converted, and the conversion is recorded per image.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from rich.progress import track

from fer.errors import DataError
from fer.rawfaces import IMAGE_SIZE, PIXELS_PER_FACE, RawFaces

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# Folder names users give their splits (compared in lower case), and the split each feeds.
SPLIT_FOLDERS = {
    "train": "train",
    "training": "train",
    "val": "validation",
    "valid": "validation",
    "validation": "validation",
    "publictest": "validation",
    "test": "test",
    "privatetest": "test",
}


def read_image_folder(root: str | Path, class_names: tuple[str, ...]) -> RawFaces:
    """Read every image under `root`; raise DataError when the layout is not usable."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: image folder not found")
    files = sorted(
        path for path in root.glob("*/*/*") if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES
    )
    if not files:
        raise DataError(
            f"{root}: no .png or .jpg images found; expected <split>/<class name>/<image> "
            f"such as train/happy/0001.png"
        )
    unknown_splits = sorted(
        {path.parent.parent.name for path in files if path.parent.parent.name.lower() not in SPLIT_FOLDERS}
    )
    if unknown_splits:
        raise DataError(
            f"{root}: unknown split folder(s) {', '.join(unknown_splits)}; name them "
            f"{', '.join(sorted(SPLIT_FOLDERS))}"
        )

    labels = {name.lower(): code for code, name in enumerate(class_names)}
    count = len(files)
    raw = RawFaces(
        columns=["emotion", "pixels", "Usage"],
        rows=np.arange(1, count + 1),
        emotion=[""] * count,
        usage=[SPLIT_FOLDERS[path.parent.parent.name.lower()] for path in files],
        faces=np.zeros((count, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8),
        pixel_count=np.full(count, -1),
        pixel_min=np.full(count, -1),
        pixel_max=np.full(count, -1),
        field_count=np.full(count, 3),
        problem=[""] * count,
        files=[str(path.relative_to(root)) for path in files],
        converted=[""] * count,
    )
    for index, path in enumerate(track(files, description=f"Reading images under {root}", transient=True)):
        class_folder = path.parent.name
        if class_folder.lower() in labels:
            raw.emotion[index] = str(labels[class_folder.lower()])
        else:
            raw.emotion[index] = class_folder
            raw.problem[index] = (
                f"class folder {class_folder!r} is not in data.class_names ({', '.join(class_names)})"
            )
        try:
            face, conversion = _read_face(path)
        except (OSError, UnidentifiedImageError, ValueError) as error:
            raw.problem[index] = f"not a readable image ({error})"
            raw.text[int(raw.rows[index])] = [raw.emotion[index], "", raw.usage[index]]
            continue
        raw.faces[index] = face
        raw.pixel_count[index] = PIXELS_PER_FACE
        raw.converted[index] = conversion
    converted = sum(1 for item in raw.converted if item)
    logger.info("Read %d images under %s; %d converted to 48x48 grayscale", count, root, converted)
    return raw


def _read_face(path: Path) -> tuple[np.ndarray, str]:
    with Image.open(path) as image:
        image.load()
        steps = []
        if image.mode != "L":
            steps.append(f"{image.mode} to grayscale")
            image = image.convert("L")
        if image.size != (IMAGE_SIZE, IMAGE_SIZE):
            steps.append(f"{image.size[0]}x{image.size[1]} resized to 48x48")
            image = image.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BILINEAR, reducing_gap=2.0)
        return np.asarray(image, dtype=np.uint8), ", ".join(steps)
