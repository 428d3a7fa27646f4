"""Classify the facial expressions in image files with a registered model.

A 48x48 image is a face crop and is classified as is. In any other image the
MTCNN detector finds the faces, and each one is cut to a 48x48 grey crop. All
crops of a call are classified in batches. A file that cannot be used gets an
error of its own and the others go on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import track

from fer.config import Config
from fer.detect import Box, crop_face, find_faces, is_face_crop, to_grey
from fer.errors import FerError
from fer.images import ImageError, list_images, read_rgb

logger = logging.getLogger(__name__)


@dataclass
class FacePrediction:
    box: Box
    label: str
    probabilities: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return {
            "box": self.box.as_list(),
            "detector_confidence": round(self.box.confidence, 4),
            "label": self.label,
            "probabilities": {name: round(value, 4) for name, value in self.probabilities.items()},
        }


@dataclass
class ImagePrediction:
    image: str
    faces: list[FacePrediction] = field(default_factory=list)
    error: str | None = None
    annotated: str | None = None

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"image": self.image, "faces": [face.as_dict() for face in self.faces]}
        if self.error is not None:
            result["error"] = self.error
        if self.annotated is not None:
            result["annotated"] = self.annotated
        return result


@dataclass
class Classifier:
    """A loaded Keras model, the label of each output, and where it came from."""

    model: Any
    class_names: tuple[str, ...]
    uri: str

    def probabilities(self, crops: np.ndarray, batch_size: int) -> np.ndarray:
        if len(crops) == 0:
            return np.zeros((0, len(self.class_names)), dtype=np.float32)
        faces = crops[..., np.newaxis].astype(np.float32)
        return self.model.predict(faces, batch_size=batch_size, verbose=0)


def model_uri(config: Config, version: int | None = None, alias: str | None = None) -> str:
    """Return the model to load: a version or an alias of the registered model, else predict.model_uri."""
    name = config.register.model_name
    if version is not None:
        return f"models:/{name}/{version}"
    if alias is not None:
        return f"models:/{name}@{alias}"
    return config.predict.model_uri or f"models:/{name}@{config.register.alias}"


def load_classifier(uri: str, config: Config) -> Classifier:
    """Load the Keras model at `uri` with Keras safe mode on, and its class names.

    The names come from the model version's `label_map` tag when `uri` names a
    registered model, else from data.class_names.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    from fer.tracking import use_tracking_store

    use_tracking_store(config.tracking)
    try:
        # safe_mode refuses models whose config would run arbitrary code (Lambda layers).
        model = mlflow.keras.load_model(uri, load_model_kwargs={"safe_mode": True})
        class_names = _label_map(uri) or config.data.class_names
    except (MlflowException, OSError) as error:
        raise FerError(
            f"cannot load model {uri} from {config.tracking.resolved_uri()}: "
            f"{_first_line(error).rstrip('.')}; `fer models list` shows the versions and aliases, "
            f"`fer run` trains one"
        ) from None
    except (ValueError, TypeError) as error:
        raise FerError(
            f"cannot load model {uri} with Keras safe_mode: {_first_line(error)} "
            f"Load only models whose code you trust."
        ) from None
    outputs = int(model.output_shape[-1])
    if outputs != len(class_names):
        raise FerError(f"model {uri} has {outputs} outputs but {len(class_names)} class names")
    return Classifier(model, tuple(class_names), uri)


def predict(
    paths: Iterable[str | Path],
    config: Config,
    classifier: Classifier | None = None,
    annotate_dir: str | Path | None = None,
) -> list[ImagePrediction]:
    """Find and classify the faces in each image file (folders are searched recursively).

    Returns one ImagePrediction per file, in order: its faces (an empty list when
    none is found), or the error that kept it from being read. With
    `annotate_dir`, a copy of each image with boxes and labels is written there.
    """
    paths = list(paths)
    classifier = classifier or load_classifier(model_uri(config), config)
    images = list_images(paths)
    if not images:
        logger.warning("No image files found in %s", ", ".join(str(path) for path in paths))
    results: list[ImagePrediction] = []
    pictures: list[np.ndarray | None] = []
    crops: list[np.ndarray] = []
    owners: list[tuple[int, Box]] = []
    progress = track(
        images,
        description="Finding faces",
        console=Console(stderr=True),
        disable=len(images) < 10,
        transient=True,
    )
    for path in progress:
        result = ImagePrediction(str(path))
        results.append(result)
        try:
            rgb = read_rgb(path, config.predict.max_pixels)
        except ImageError as error:
            result.error = str(error)
            logger.error("%s", error)
            pictures.append(None)
            continue
        pictures.append(rgb if annotate_dir is not None else None)
        if is_face_crop(rgb):
            boxes = [Box(0, 0, rgb.shape[1], rgb.shape[0])]
            faces = [to_grey(rgb)]
        else:
            boxes = find_faces(rgb, config.predict.min_face_confidence)
            faces = [crop_face(rgb, box) for box in boxes]
        crops += faces
        owners += [(len(results) - 1, box) for box in boxes]

    stacked = np.stack(crops) if crops else np.zeros((0, 48, 48), dtype=np.uint8)
    probabilities = classifier.probabilities(stacked, config.predict.batch_size)
    for (index, box), row in zip(owners, probabilities, strict=True):
        results[index].faces.append(_face(box, row, classifier.class_names))
    if annotate_dir is not None:
        _write_annotations(results, pictures, Path(annotate_dir))
    found = sum(len(result.faces) for result in results)
    logger.info("Faces classified: %d, in %d images, with %s", found, len(results), classifier.uri)
    return results


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _face(box: Box, row: np.ndarray, class_names: Sequence[str]) -> FacePrediction:
    probabilities = {name: float(value) for name, value in zip(class_names, row, strict=True)}
    return FacePrediction(box, class_names[int(np.argmax(row))], probabilities)


def _write_annotations(
    results: list[ImagePrediction], pictures: list[np.ndarray | None], folder: Path
) -> None:
    from fer.annotate import annotated_image

    folder.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    for result, rgb in zip(results, pictures, strict=True):
        if rgb is None:
            continue
        stem = Path(result.image).stem
        name, counter = f"{stem}.annotated.png", 1
        while name in used:
            counter += 1
            name = f"{stem}-{counter}.annotated.png"
        used.add(name)
        target = folder / name
        labels = [f"{face.label} {face.probabilities[face.label]:.0%}" for face in result.faces]
        annotated_image(rgb, [face.box for face in result.faces], labels).save(target)
        result.annotated = str(target)


def _label_map(uri: str) -> tuple[str, ...] | None:
    import mlflow
    from mlflow.exceptions import MlflowException

    if not uri.startswith("models:/"):
        return None
    name, _, reference = uri.removeprefix("models:/").partition("@")
    client = mlflow.MlflowClient()
    try:
        if reference:
            version = client.get_model_version_by_alias(name, reference)
        else:
            name, _, number = uri.removeprefix("models:/").partition("/")
            version = client.get_model_version(name, number)
    except MlflowException:
        return None
    label_map = version.tags.get("label_map")
    if not label_map:
        return None
    labels = json.loads(label_map)
    return tuple(labels[str(index)] for index in range(len(labels)))
