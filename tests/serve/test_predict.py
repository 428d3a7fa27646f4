"""`predict` on face crops, photos and bad files, with the registered champion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import keras
import mlflow
import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_sample_image

from fer.errors import FerError
from fer.predict import load_classifier, model_uri, predict
from tests.serve.conftest import ASSETS

FER = str(Path(sys.executable).with_name("fer"))
# Where the astronaut's face is in tests/assets/astronaut.jpg (x, y, width, height).
ASTRONAUT_FACE = (182, 64, 83, 107)


@pytest.fixture(scope="module")
def classifier(champion):
    return load_classifier(model_uri(champion.config), champion.config)


@pytest.fixture(scope="module")
def images(tmp_path_factory, champion) -> dict[str, Path]:
    """Write a face crop, a photo without a face and the bad inputs the command must refuse."""
    folder = tmp_path_factory.mktemp("images")
    crop = folder / "crop.png"
    Image.fromarray(champion.test_faces[0]).save(crop)
    flower = folder / "flower.jpg"
    Image.fromarray(load_sample_image("flower.jpg")).save(flower)
    not_image = folder / "notes.jpg"
    not_image.write_text("these are notes, not pixels\n", encoding="utf-8")
    truncated = folder / "truncated.jpg"
    truncated.write_bytes((ASSETS / "astronaut.jpg").read_bytes()[:20_000])
    return {
        "crop": crop,
        "photo": ASSETS / "astronaut.jpg",
        "no_face": flower,
        "missing": folder / "absent.png",
        "not_image": not_image,
        "truncated": truncated,
    }


def test_crop_is_classified_as_is(champion, classifier, images):
    [result] = predict([images["crop"]], champion.config, classifier)
    assert result.error is None
    [face] = result.faces
    assert face.box.as_list() == [0, 0, 48, 48]
    assert set(face.probabilities) == set(champion.config.data.class_names)
    assert sum(face.probabilities.values()) == pytest.approx(1.0, abs=1e-4)
    assert face.label == max(face.probabilities, key=face.probabilities.get)
    # The same probabilities as the model gives the stored face directly.
    direct = classifier.model.predict(champion.test_faces[:1, ..., None].astype("float32"), verbose=0)[0]
    assert list(face.probabilities.values()) == pytest.approx(direct.tolist(), abs=1e-5)


def test_photo_with_and_without_face(champion, classifier, images, tmp_path):
    photo, no_face = predict([images["photo"], images["no_face"]], champion.config, classifier, tmp_path)
    [face] = photo.faces
    x, y, width, height = face.box.as_list()
    expected_x, expected_y, expected_width, expected_height = ASTRONAUT_FACE
    assert abs(x - expected_x) < 20
    assert abs(y - expected_y) < 20
    assert abs(width - expected_width) < 25
    assert abs(height - expected_height) < 25
    assert no_face.faces == []
    assert no_face.error is None
    annotated = Image.open(photo.annotated)
    assert annotated.size == Image.open(images["photo"]).size
    assert Path(no_face.annotated).is_file()


def test_folder_is_searched(champion, classifier, images):
    results = predict([images["crop"].parent], champion.config, classifier)
    names = [Path(result.image).name for result in results]
    # Inside a folder only image suffixes count; notes.jpg is refused as not an image.
    assert names == ["crop.png", "flower.jpg", "notes.jpg", "truncated.jpg"]


def test_bad_files_each_get_error(champion, classifier, images):
    order = ["missing", "crop", "not_image", "truncated"]
    results = predict([images[name] for name in order], champion.config, classifier)
    errors = {name: result.error for name, result in zip(order, results, strict=True)}
    assert "file not found" in errors["missing"]
    assert "not an image" in errors["not_image"]
    assert "truncated" in errors["truncated"]
    assert errors["crop"] is None
    assert len(results[1].faces) == 1
    for name in ("missing", "not_image", "truncated"):
        assert str(images[name]) in errors[name]
        assert "\n" not in errors[name]


def test_pixel_limit_rejects_large_image(champion, classifier, images):
    config = replace(champion.config, predict=replace(champion.config.predict, max_pixels=100_000))
    photo, crop = predict([images["photo"], images["crop"]], config, classifier)
    assert "512x512 pixels is over the limit of 100,000" in photo.error
    assert photo.faces == []
    assert crop.faces


def test_cli_bad_files(champion, images, tmp_path):
    env = {**os.environ, "MLFLOW_TRACKING_URI": champion.tracking_uri}
    names = ["crop", "photo", "not_image", "missing"]
    completed = subprocess.run(
        [FER, "predict", *(str(images[name]) for name in names), "--params", str(champion.params),
         "--annotate", str(tmp_path / "annotated")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr
    error_lines = [line for line in completed.stderr.splitlines() if "ERROR fer.predict:" in line]
    assert len(error_lines) == 2
    assert str(images["not_image"]) in error_lines[0]
    assert str(images["missing"]) in error_lines[1]
    results = json.loads(completed.stdout)
    assert [len(result["faces"]) for result in results] == [1, 1, 0, 0]
    assert [("error" in result) for result in results] == [False, False, True, True]
    assert len(results[1]["faces"][0]["probabilities"]) == 7
    assert sorted(path.name for path in (tmp_path / "annotated").iterdir()) == [
        "astronaut.annotated.png",
        "crop.annotated.png",
    ]


def test_missing_model_is_one_line(champion):
    with pytest.raises(FerError, match="cannot load model models:/fer-emotion/99 .* `fer models list`"):
        load_classifier(model_uri(champion.config, version=99), champion.config)


def test_model_with_code_is_refused_by_safe_mode(champion):
    mlflow.set_tracking_uri(champion.tracking_uri)
    inputs = keras.Input((48, 48, 1))
    outputs = keras.layers.Lambda(lambda x: keras.ops.mean(x, axis=(1, 2, 3))[:, None] * np.ones((1, 7)))(
        inputs
    )
    with mlflow.start_run():
        info = mlflow.keras.log_model(keras.Model(inputs, outputs), name="model")
    with pytest.raises(FerError, match="safe_mode"):
        load_classifier(info.model_uri, champion.config)
