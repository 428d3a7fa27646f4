"""Augmentation touches the training split only, and every copy traces back to a face."""

import numpy as np
import pytest

from fer.augment import augment
from fer.config import load_config
from fer.faces import load_faces
from fer.ingest import ingest
from tests.conftest import PROJECT_ROOT


@pytest.fixture(scope="module")
def stored(tmp_path_factory, sample_csv):
    config = load_config(PROJECT_ROOT / "params.yaml")
    folder = tmp_path_factory.mktemp("augment")
    table = ingest(sample_csv, folder / "faces.parquet", config.data)
    plain = load_faces(augment(table, folder / "plain.npz", type(config.augment)(False), config.data))
    flipped = load_faces(augment(table, folder / "flipped.npz", config.augment, config.data))
    return plain, flipped


def test_flip_doubles_training_only(stored):
    plain, flipped = stored
    assert (flipped.splits == "train").sum() == 2 * (plain.splits == "train").sum()
    for split in ("validation", "test"):
        assert (flipped.splits == split).sum() == (plain.splits == split).sum()


def test_validation_and_test_faces_are_byte_identical(stored):
    plain, flipped = stored
    for split in ("validation", "test"):
        original_faces, original_labels = plain.split(split)
        faces, labels = flipped.split(split)
        assert faces.dtype == np.uint8
        assert faces.tobytes() == original_faces.tobytes()
        assert np.array_equal(labels, original_labels)


def test_every_flipped_face_mirrors_its_training_face(stored):
    plain, flipped = stored
    by_row = {int(row): index for index, row in enumerate(plain.rows)}
    copies = np.flatnonzero(flipped.flipped)
    assert len(copies) == (plain.splits == "train").sum()
    for index in copies:
        source = by_row[int(flipped.rows[index])]
        assert plain.splits[source] == "train"
        assert flipped.labels[index] == plain.labels[source]
        assert np.array_equal(flipped.faces[index], plain.faces[source][:, ::-1])


def test_sample_grid_is_written(stored, tmp_path_factory):
    folder = next(tmp_path_factory.getbasetemp().glob("augment*"))
    assert (folder / "sample_grid.png").stat().st_size > 1000
