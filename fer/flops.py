"""Count the floating-point operations of one forward pass, layer by layer.

A multiply-add counts as two operations. Only convolutions and dense layers are
counted, because they dominate these models. Batch norm, activations, pooling and
additions are left out, so the total is a slight underestimate.
"""

from __future__ import annotations

import math

import keras
from keras import layers


def forward_flops(model: keras.Model) -> int:
    """Return the FLOPs of one face through `model` (nested models included)."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += forward_flops(layer)
        else:
            total += _layer_flops(layer)
    return total


def _layer_flops(layer) -> int:
    if isinstance(layer, layers.Dense):
        inputs = int(layer.input.shape[-1])
        return 2 * inputs * int(layer.units)
    if not isinstance(layer, (layers.Conv2D, layers.DepthwiseConv2D, layers.SeparableConv2D)):
        return 0
    kernel = math.prod(layer.kernel_size)
    channels_in = int(layer.input.shape[-1])
    height, width = (int(size) for size in layer.output.shape[1:3])
    positions = height * width
    if isinstance(layer, layers.SeparableConv2D):
        depthwise = positions * kernel * channels_in * layer.depth_multiplier
        pointwise = positions * channels_in * layer.depth_multiplier * int(layer.filters)
        return 2 * (depthwise + pointwise)
    if isinstance(layer, layers.DepthwiseConv2D):
        return 2 * positions * kernel * channels_in * layer.depth_multiplier
    return 2 * positions * kernel * channels_in * int(layer.filters)
