"""Model builders: output shapes and configurations that must fail."""

import numpy as np
import pytest

from fer.errors import ConfigError
from fer.models import build_model


@pytest.mark.parametrize(
    ("builder", "options"),
    [
        ("cnn", {"filters": [8, 16], "dense_units": [16]}),
        ("resnet50", {"input_size": 48}),
        ("resnet50", {"input_size": 64}),
    ],
)
def test_builder_maps_faces_to_probabilities(builder, options):
    model = build_model(builder, 7, options)
    faces = np.random.default_rng(0).integers(0, 256, size=(3, 48, 48, 1)).astype("float32")
    probabilities = model.predict(faces, verbose=0)
    assert probabilities.shape == (3, 7)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)


def test_number_of_classes_follows_the_label_set():
    model = build_model("cnn", 5, {"filters": [8], "dense_units": [8]})
    assert model.output_shape == (None, 5)


def test_resnet_rejects_inputs_below_32_pixels():
    with pytest.raises(ConfigError, match="input_size is 24"):
        build_model("resnet50", 7, {"input_size": 24})


def test_unknown_builder_is_named():
    with pytest.raises(ConfigError, match="unknown model builder 'vgg'"):
        build_model("vgg", 7, {})
