"""Augmentation touches the training split only, and every copy traces back to a face."""

from dataclasses import replace

import numpy as np
import pytest

from fer.augment import augment, random_transform
from fer.config import load_config
from fer.faces import load_faces
from fer.ingest import ingest
from tests.conftest import PROJECT_ROOT

CONFIG = load_config(PROJECT_ROOT / "params.yaml")
EVERY_AUGMENTATION = replace(CONFIG.augment, vertical_flip=True, random_copies=1)


@pytest.fixture(scope="module")
def stored(tmp_path_factory, sample_csv):
    folder = tmp_path_factory.mktemp("augment")
    table = ingest(sample_csv, folder / "faces.parquet", CONFIG.data)
    plain = replace(CONFIG.augment, horizontal_flip=False)
    return {
        "folder": folder,
        "plain": load_faces(augment(table, folder / "plain.npz", plain, CONFIG.data)),
        "flipped": load_faces(augment(table, folder / "flipped.npz", CONFIG.augment, CONFIG.data)),
        "all": load_faces(augment(table, folder / "all.npz", EVERY_AUGMENTATION, CONFIG.data)),
        "again": load_faces(augment(table, folder / "again.npz", EVERY_AUGMENTATION, CONFIG.data)),
    }


def test_flip_doubles_training_only(stored):
    plain, flipped = stored["plain"], stored["flipped"]
    assert (flipped.splits == "train").sum() == 2 * (plain.splits == "train").sum()
    for split in ("validation", "test"):
        assert (flipped.splits == split).sum() == (plain.splits == split).sum()


@pytest.mark.parametrize("variant", ["flipped", "all"])
def test_validation_and_test_faces_are_byte_identical(stored, variant):
    plain = stored["plain"]
    for split in ("validation", "test"):
        original_faces, original_labels = plain.split(split)
        faces, labels = stored[variant].split(split)
        assert faces.dtype == np.uint8
        assert faces.tobytes() == original_faces.tobytes()
        assert np.array_equal(labels, original_labels)


def test_every_flipped_face_mirrors_its_training_face(stored):
    plain, flipped = stored["plain"], stored["flipped"]
    by_row = {int(row): index for index, row in enumerate(plain.rows)}
    copies = np.flatnonzero(flipped.transform == "horizontal_flip")
    assert len(copies) == (plain.splits == "train").sum()
    for index in copies:
        source = by_row[int(flipped.rows[index])]
        assert plain.splits[source] == "train"
        assert flipped.labels[index] == plain.labels[source]
        assert np.array_equal(flipped.faces[index], plain.faces[source][:, ::-1])


def test_every_copy_traces_back_to_a_training_face(stored):
    plain, every = stored["plain"], stored["all"]
    by_row = {int(row): index for index, row in enumerate(plain.rows)}
    train_faces = int((plain.splits == "train").sum())
    for transform in ("horizontal_flip", "vertical_flip", "random"):
        assert (every.transform == transform).sum() == train_faces
    for index in np.flatnonzero(every.transform != ""):
        source = by_row[int(every.rows[index])]
        assert plain.splits[source] == "train"
        assert every.labels[index] == plain.labels[source]
        if every.transform[index] == "vertical_flip":
            assert np.array_equal(every.faces[index], plain.faces[source][::-1, :])


def test_random_copies_change_faces_within_limits(stored):
    plain, every = stored["plain"], stored["all"]
    by_row = {int(row): index for index, row in enumerate(plain.rows)}
    copies = np.flatnonzero(every.transform == "random")
    correlations = []
    for index in copies:
        original = plain.faces[by_row[int(every.rows[index])]].astype(float)
        copy = every.faces[index].astype(float)
        if original.std() > 1:
            correlations.append(np.corrcoef(original.ravel(), copy.ravel())[0, 1])
    # Small shifts, turns and zooms change the pixels but keep the picture.
    assert np.median(correlations) > 0.6
    assert max(correlations) < 1.0


def test_random_transform_is_identity_at_zero_limits(stored):
    face = stored["plain"].faces[0]
    still = replace(CONFIG.augment, max_shift=0, max_rotation=0, max_zoom=0, max_brightness=0)
    assert np.array_equal(random_transform(face, np.random.default_rng(0), still), face)
    brighter = replace(still, max_brightness=0.5)
    changed = random_transform(face, np.random.default_rng(0), brighter)
    assert not np.array_equal(changed, face)
    assert np.corrcoef(changed.ravel().astype(float), face.ravel().astype(float))[0, 1] > 0.95


def test_random_copies_repeat_with_the_seed(stored):
    assert stored["all"].faces.tobytes() == stored["again"].faces.tobytes()


def test_sample_grid_is_written(stored):
    assert (stored["folder"] / "sample_grid.png").stat().st_size > 1000
