"""Measure training throughput through fer's tf.data pipeline against a plain model.fit.

For each model, the same faces train twice in one process: once through
`fer.train.make_dataset` (shuffle, cast, batch, prefetch) and once with
`model.fit(x, y)` on the same float32 arrays and batch size. Each side first
runs a few warm-up steps, so graph tracing is not timed. The script prints
images per second, the ratio, the FLOPs of one forward pass, and the achieved
GFLOP/s, counting a training step as three forward passes. It also times batch
inference of the efficient CNN.

    python benchmarks/train_throughput.py [--data ../shared/data/fer2013.csv.gz] [--faces 4096]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from fer.config import load_config  # noqa: E402
from fer.csvparse import parse_csv  # noqa: E402
from fer.flops import forward_flops  # noqa: E402
from fer.hardware import configure_runtime  # noqa: E402
from fer.models import build_model  # noqa: E402
from fer.train import make_dataset  # noqa: E402

WARMUP_STEPS = 4
# Timed passes of batch inference; the best and the median are printed.
INFERENCE_PASSES = 3


def load_faces(path: Path, count: int) -> tuple[np.ndarray, np.ndarray]:
    raw = parse_csv(path)
    good = np.array([not problem for problem in raw.problem])
    labels = np.array([int(text) if text.isdigit() else -1 for text in raw.emotion])
    keep = np.flatnonzero(good & (labels >= 0))[:count]
    return raw.faces[keep][..., np.newaxis], labels[keep]


def compiled(builder: str, options: dict) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = build_model(builder, 7, options)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def time_pipeline(builder: str, options: dict, faces: np.ndarray, labels: np.ndarray, batch: int) -> float:
    model = compiled(builder, options)
    first = batch * WARMUP_STEPS
    warmup = make_dataset(faces[:first], labels[:first], batch, shuffle_seed=0)
    model.fit(warmup, epochs=1, verbose=0)
    dataset = make_dataset(faces, labels, batch, shuffle_seed=0)
    started = time.perf_counter()
    model.fit(dataset, epochs=1, verbose=0)
    return len(labels) / (time.perf_counter() - started)


def time_plain(builder: str, options: dict, faces: np.ndarray, labels: np.ndarray, batch: int) -> float:
    model = compiled(builder, options)
    x = faces.astype(np.float32)
    first = batch * WARMUP_STEPS
    model.fit(x[:first], labels[:first], batch_size=batch, epochs=1, verbose=0)
    started = time.perf_counter()
    model.fit(x, labels, batch_size=batch, epochs=1, verbose=0, shuffle=True)
    return len(labels) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path("../shared/data/fer2013.csv.gz"))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--profile", default="cpu", help="params profile whose model options are timed")
    parser.add_argument("--faces", type=int, default=4096, help="training faces per timed pass")
    parser.add_argument("--resnet-faces", type=int, default=512, help="faces per pass for ResNet50")
    args = parser.parse_args()
    if not args.data.is_file():
        raise SystemExit(f"{args.data}: file not found; pass --data with a FER2013 CSV")

    runtime = configure_runtime(1)
    config = load_config(args.params, args.profile)
    faces, labels = load_faces(args.data, max(args.faces, args.resnet_faces))
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {runtime.device}"
    print(f"machine: {machine}, Keras {keras.__version__}")
    print(f"profile {config.profile}; faces per pass: {args.faces} (ResNet50: {args.resnet_faces})\n")
    print(
        f"{'model':14} {'batch':>5} {'MFLOPs/face':>11} {'pipeline/s':>10} "
        f"{'plain/s':>8} {'ratio':>6} {'GFLOP/s':>8}"
    )
    for name in ("cnn", "cnn_efficient", "resnet50"):
        model_config = config.models[name]
        count = args.resnet_faces if model_config.builder == "resnet50" else args.faces
        batch = model_config.batch_size * runtime.batch_multiplier
        options = dict(model_config.options)
        flops = forward_flops(build_model(model_config.builder, 7, options))
        pipeline = time_pipeline(model_config.builder, options, faces[:count], labels[:count], batch)
        plain = time_plain(model_config.builder, options, faces[:count], labels[:count], batch)
        achieved = 3 * flops * pipeline / 1e9
        print(
            f"{name:14} {batch:5d} {flops / 1e6:11.1f} {pipeline:10.0f} {plain:8.0f} "
            f"{pipeline / plain:6.2f} {achieved:8.1f}"
        )

    efficient = config.models["cnn_efficient"]
    model = build_model(efficient.builder, 7, dict(efficient.options))
    x = faces[: args.faces].astype(np.float32)
    model.predict(x, batch_size=256, verbose=0)  # Warm-up pass: tracing and thread pools.
    rates = []
    for _ in range(INFERENCE_PASSES):
        started = time.perf_counter()
        model.predict(x, batch_size=256, verbose=0)
        rates.append(len(x) / (time.perf_counter() - started))
    print(
        f"\ncnn_efficient batch inference (batch 256, {efficient.options}): best of {INFERENCE_PASSES} "
        f"passes {max(rates):.0f} faces/s, median {statistics.median(rates):.0f} (target 1,000)"
    )


if __name__ == "__main__":
    main()
