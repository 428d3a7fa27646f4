"""Keras model builders, one function per architecture, chosen by name in params.yaml.

Every model takes raw grey levels of shape (48, 48, 1) in 0-255 and returns class
probabilities. Scaling and any channel or size change happen inside the model.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

import keras
from keras import layers

from fer.config import RESNET_MIN_INPUT_SIZE
from fer.errors import ConfigError
from fer.faces import IMAGE_SIZE

INPUT_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 1)
# Per-channel means that keras.applications.resnet50.preprocess_input subtracts
# (ImageNet, BGR order); a grey face repeated to three channels gets the same shift.
RESNET_CHANNEL_MEANS = (103.939, 116.779, 123.68)
# Keras's default of 0.99 leaves the moving statistics far from the batch statistics
# after a few hundred steps, so short trainings validate badly; 0.9 settles sooner.
BATCH_NORM_MOMENTUM = 0.9


def build_cnn(num_classes: int, options: Mapping[str, Any]) -> keras.Model:
    """Build the custom CNN: conv blocks with batch norm, max-pooling and dropout, then dense layers."""
    dropout = float(options.get("dropout", 0.3))
    inputs = keras.Input(INPUT_SHAPE, name="face")
    x = layers.Rescaling(1.0 / 255)(inputs)
    for filters in options.get("filters", (64, 128, 256, 512)):
        x = layers.Conv2D(int(filters), 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM)(x)
        x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D()(x)
        x = layers.Dropout(dropout)(x)
    x = layers.Flatten()(x)
    for units in options.get("dense_units", (512, 512, 128)):
        x = layers.Dense(int(units), use_bias=False)(x)
        x = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM)(x)
        x = layers.Activation("relu")(x)
        x = layers.Dropout(dropout)(x)
    outputs = _classifier(x, num_classes)
    return keras.Model(inputs, outputs, name="cnn")


def build_cnn_efficient(num_classes: int, options: Mapping[str, Any]) -> keras.Model:
    """Build a CNN of residual blocks designed for accuracy per FLOP.

    A plain 3x3 stem that halves the side, then one block per entry of `filters`:
    `block_convs` 3x3 convolutions with batch norm, a strided 1x1 shortcut and a
    max-pool that halves the side, then global average pooling. With `separable`
    (the default) the block convolutions are depthwise-separable, as in
    mini-Xception (Arriaga et al., 2017), an architecture published for FER2013.
    TensorFlow's CPU kernels run depthwise convolutions slowly, so for inference on
    a CPU, plain convolutions, one per block after a strided stem, are faster
    (docs/benchmarks.md).
    """
    dropout = float(options.get("dropout", 0.3))
    conv = layers.SeparableConv2D if options.get("separable", True) else layers.Conv2D
    inputs = keras.Input(INPUT_SHAPE, name="face")
    x = layers.Rescaling(1.0 / 255)(inputs)
    # The stem halves the side at once, so no block runs at the full 48x48: by a
    # max-pool after the conv, or (stem_strides 2, four times cheaper) by a strided conv.
    stem_strides = int(options.get("stem_strides", 1))
    x = layers.Conv2D(
        int(options.get("stem_filters", 32)), 3, strides=stem_strides, padding="same", use_bias=False
    )(x)
    x = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM)(x)
    x = layers.Activation("relu")(x)
    if stem_strides == 1:
        x = layers.MaxPooling2D()(x)
    for filters in options.get("filters", (64, 128, 256, 512)):
        shortcut = layers.Conv2D(int(filters), 1, strides=2, padding="same", use_bias=False)(x)
        shortcut = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM)(shortcut)
        for index in range(int(options.get("block_convs", 2))):
            if index:
                x = layers.Activation("relu")(x)
            x = conv(int(filters), 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM)(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        x = layers.Activation("relu")(layers.Add()([x, shortcut]))
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    outputs = _classifier(x, num_classes)
    return keras.Model(inputs, outputs, name="cnn_efficient")


def build_resnet50(num_classes: int, options: Mapping[str, Any]) -> keras.Model:
    """Build ResNet50 on the grey face repeated to three channels.

    The backbone starts from random weights, or from the local ImageNet weights
    file that `weights` names (without the top; nothing is downloaded).
    """
    size = int(options.get("input_size", IMAGE_SIZE))
    if size < RESNET_MIN_INPUT_SIZE:
        raise ConfigError(
            f"models.resnet50.options.input_size is {size}; ResNet50 needs at least "
            f"{RESNET_MIN_INPUT_SIZE} pixels per side"
        )
    inputs = keras.Input(INPUT_SHAPE, name="face")
    x = inputs
    if size != IMAGE_SIZE:
        x = layers.Resizing(size, size)(x)
    x = layers.Concatenate(name="gray_to_rgb")([x, x, x])
    x = layers.Normalization(mean=RESNET_CHANNEL_MEANS, variance=(1.0, 1.0, 1.0))(x)
    weights = options.get("weights")
    backbone = keras.applications.ResNet50(
        include_top=False,
        weights=None if weights in (None, "none") else str(weights),
        input_shape=(size, size, 3),
        pooling="avg",
    )
    x = backbone(x)
    x = layers.Dropout(float(options.get("dropout", 0.3)))(x)
    outputs = _classifier(x, num_classes)
    return keras.Model(inputs, outputs, name="resnet50")


BUILDERS: dict[str, Callable[[int, Mapping[str, Any]], keras.Model]] = {
    "cnn": build_cnn,
    "cnn_efficient": build_cnn_efficient,
    "resnet50": build_resnet50,
}


def build_model(builder: str, num_classes: int, options: Mapping[str, Any]) -> keras.Model:
    """Build the model that `builder` names; raise ConfigError for an unknown name.

    `builder` is a key of BUILDERS, or `package.module:function` for a builder
    defined outside this package with the same signature.
    """
    return resolve_builder(builder)(num_classes, options)


def resolve_builder(builder: str) -> Callable[[int, Mapping[str, Any]], keras.Model]:
    """Return the builder function that `builder` names."""
    if builder in BUILDERS:
        return BUILDERS[builder]
    if ":" in builder:
        module_name, _, function_name = builder.partition(":")
        try:
            return getattr(importlib.import_module(module_name), function_name)
        except (ImportError, AttributeError) as error:
            raise ConfigError(f"model builder {builder!r} cannot be imported: {error}") from error
    raise ConfigError(
        f"unknown model builder {builder!r}; known builders: {', '.join(BUILDERS)}, "
        f"or give package.module:function"
    )


def _classifier(x, num_classes: int):
    # The softmax runs in float32 so mixed precision cannot overflow the probabilities.
    logits = layers.Dense(num_classes, name="logits")(x)
    return layers.Activation("softmax", dtype="float32", name="probabilities")(logits)
