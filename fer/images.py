"""Read image files for prediction, refusing bad ones with a one-line reason.

Every refusal is an ImageError whose message names the file, the problem and
the fix, so a batch can report it and go on with the other files.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from fer.errors import FerError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


class ImageError(FerError):
    """One image file cannot be used; the others can still be."""


def list_images(paths: Iterable[str | Path]) -> list[Path]:
    """Expand folders into their image files (recursively, sorted); keep files as given.

    A named file is kept whatever its suffix, so that a non-image gets its own
    error; inside folders only files with an image suffix count.
    """
    images: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            images += sorted(
                child
                for child in path.rglob("*")
                if child.suffix.lower() in IMAGE_SUFFIXES and child.is_file()
            )
        else:
            images.append(path)
    return images


def read_rgb(path: Path, max_pixels: int) -> np.ndarray:
    """Decode `path` into an RGB uint8 array of shape (height, width, 3).

    The size is read from the header first, so an image above `max_pixels` is
    refused before its pixels are decoded.
    """
    if not path.exists():
        raise ImageError(f"{path}: file not found; check the path")
    if not path.is_file():
        raise ImageError(f"{path}: not a regular file; pass image files or folders")
    try:
        with Image.open(path) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise ImageError(
                    f"{path}: {width}x{height} pixels is over the limit of {max_pixels:,}; "
                    f"shrink the image or raise the limit (--max-pixels or predict.max_pixels)"
                )
            image.load()
            return np.asarray(image.convert("RGB"))
    except UnidentifiedImageError:
        raise ImageError(
            f"{path}: not an image PIL can read; pass PNG, JPEG, BMP, GIF, WebP or TIFF files"
        ) from None
    except Image.DecompressionBombError as error:
        raise ImageError(
            f"{path}: {error}; shrink the image or raise the limit (--max-pixels or predict.max_pixels)"
        ) from None
    except (OSError, SyntaxError, ValueError) as error:
        # PIL reports a cut-off file as "image file is truncated (N bytes not processed)".
        raise ImageError(
            f"{path}: the image cannot be decoded ({error}); the file may be truncated"
        ) from None
