"""Model builders: output shapes and configurations that must fail."""

import keras
import numpy as np
import pytest
import yaml

from fer.config import load_config
from fer.errors import ConfigError
from fer.flops import forward_flops
from fer.models import build_model
from tests.conftest import PROJECT_ROOT


@pytest.mark.parametrize(
    ("builder", "options"),
    [
        ("cnn", {"filters": [8, 16], "dense_units": [16]}),
        ("cnn_efficient", {"stem_filters": 8, "filters": [8, 16]}),
        ("cnn_efficient", {"stem_strides": 2, "filters": [8, 16], "block_convs": 1, "separable": False}),
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


def test_config_rejects_small_resnet_input_and_missing_weights(tmp_path):
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["models"]["resnet50"]["options"]["input_size"] = 16
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params), encoding="utf-8")
    with pytest.raises(ConfigError, match="input_size is 16; ResNet50 needs at least 32"):
        load_config(path)

    params["models"]["resnet50"]["options"].update({"input_size": 48, "weights": str(tmp_path / "none.h5")})
    path.write_text(yaml.safe_dump(params), encoding="utf-8")
    with pytest.raises(ConfigError, match="none.h5 not found; give the path of a local ImageNet weights"):
        load_config(path)


def test_efficient_cnn_needs_fewer_flops_than_the_original():
    original = forward_flops(build_model("cnn", 7, {}))
    efficient = forward_flops(
        build_model("cnn_efficient", 7, {"stem_filters": 32, "filters": [32, 64, 128, 256]})
    )
    assert efficient < original / 2


def test_builder_named_by_module_path():
    model = build_model("tests.model.test_models:tiny_builder", 3, {})
    assert model.output_shape == (None, 3)


def tiny_builder(num_classes, options):
    inputs = keras.Input((48, 48, 1))
    return keras.Model(
        inputs, keras.layers.Dense(num_classes, activation="softmax")(keras.layers.Flatten()(inputs))
    )
