"""Time `fer.predict.predict` on a folder of face crops and on full photos.

Writes 1,000 real 48x48 faces from a FER2013 CSV as PNG files, and 20 photos made
from tests/assets/astronaut.jpg (four sizes, five variants each: as is, mirrored,
darker, brighter, rotated by 5 degrees). Each set goes through `predict` once
after a warm-up call, and through a baseline in the same run: the same steps one
image at a time, with one `model.predict` call per face, as a plain loop would
do. The script prints faces per second for the crops, the mean, median and
slowest per-photo latency, and the ratios to the baseline.

Speed does not depend on the weights, so the model is the `cnn` of the chosen
profile with fresh weights unless --model-uri names a logged model.

    python benchmarks/predict_speed.py [--data ../shared/data/fer2013.csv.gz] [--crops 1000]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from PIL import Image, ImageEnhance  # noqa: E402

from fer.config import load_config  # noqa: E402
from fer.csvparse import parse_csv  # noqa: E402
from fer.detect import crop_face, find_faces, is_face_crop, to_grey  # noqa: E402
from fer.images import read_rgb  # noqa: E402
from fer.models import build_model  # noqa: E402
from fer.predict import Classifier, load_classifier, predict  # noqa: E402

ASTRONAUT = Path(__file__).resolve().parents[1] / "tests" / "assets" / "astronaut.jpg"
PHOTO_SIDES = (384, 512, 768, 1024)


def write_crops(csv: Path, folder: Path, count: int) -> list[Path]:
    raw = parse_csv(csv)
    good = np.flatnonzero(np.array([not problem for problem in raw.problem]))[:count]
    paths = []
    for index in good:
        path = folder / f"face_{index:05d}.png"
        Image.fromarray(raw.faces[index]).save(path)
        paths.append(path)
    return paths


def write_photos(folder: Path) -> list[Path]:
    source = Image.open(ASTRONAUT).convert("RGB")
    variants = {
        "asis": lambda image: image,
        "mirror": lambda image: image.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        "dark": lambda image: ImageEnhance.Brightness(image).enhance(0.7),
        "bright": lambda image: ImageEnhance.Brightness(image).enhance(1.3),
        "rotated": lambda image: image.rotate(5, resample=Image.Resampling.BILINEAR),
    }
    paths = []
    for side in PHOTO_SIDES:
        scaled = source.resize((side, side), Image.Resampling.LANCZOS)
        for name, change in variants.items():
            path = folder / f"astronaut_{side}_{name}.jpg"
            change(scaled).save(path, quality=90)
            paths.append(path)
    return paths


def baseline(
    paths: list[Path], classifier: Classifier, max_pixels: int, min_confidence: float
) -> list[float]:
    """One image at a time, one model call per face; returns the seconds per image."""
    seconds = []
    for path in paths:
        started = time.perf_counter()
        rgb = read_rgb(path, max_pixels)
        if is_face_crop(rgb):
            faces = [to_grey(rgb)]
        else:
            faces = [crop_face(rgb, box) for box in find_faces(rgb, min_confidence)]
        for face in faces:
            classifier.model.predict(face[np.newaxis, ..., np.newaxis].astype(np.float32), verbose=0)
        seconds.append(time.perf_counter() - started)
    return seconds


def timed_predict(paths: list[Path], config, classifier: Classifier) -> tuple[float, int]:
    started = time.perf_counter()
    results = predict(paths, config, classifier)
    return time.perf_counter() - started, sum(len(result.faces) for result in results)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path("../shared/data/fer2013.csv.gz"))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--profile", default="cpu", help="params profile whose cnn is timed")
    parser.add_argument("--crops", type=int, default=1000)
    parser.add_argument("--model-uri", help="time a logged model instead of a fresh cnn")
    args = parser.parse_args()
    if not args.data.is_file():
        raise SystemExit(f"{args.data}: file not found; pass --data with a FER2013 CSV")

    config = load_config(args.params, args.profile)
    if args.model_uri:
        classifier = load_classifier(args.model_uri, config)
    else:
        cnn = config.models["cnn"]
        model = build_model(cnn.builder, len(config.data.class_names), cnn.options)
        classifier = Classifier(model, config.data.class_names, f"fresh {cnn.builder} ({config.profile})")
    settings = config.predict
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; model: {classifier.uri}")

    with tempfile.TemporaryDirectory(prefix="fer-predict-bench-") as folder:
        crops_dir, photos_dir = Path(folder, "crops"), Path(folder, "photos")
        crops_dir.mkdir()
        photos_dir.mkdir()
        crops = write_crops(args.data, crops_dir, args.crops)
        photos = write_photos(photos_dir)

        # Warm-up: model graph, MTCNN weights, PIL decoders.
        predict([crops[0], photos[0]], config, classifier)
        baseline(crops[:2] + photos[:1], classifier, settings.max_pixels, settings.min_face_confidence)

        crop_seconds, crop_faces = timed_predict([crops_dir], config, classifier)
        crop_base = sum(baseline(crops, classifier, settings.max_pixels, settings.min_face_confidence))
        print(f"\n{len(crops)} face crops (folder of 48x48 PNG files):")
        print(f"  fer predict: {crop_seconds:6.2f} s, {crop_faces / crop_seconds:7.0f} faces/s")
        print(f"  baseline:    {crop_base:6.2f} s, {len(crops) / crop_base:7.0f} faces/s")
        print(f"  ratio (fer / baseline speed): {crop_base / crop_seconds:.1f}x")

        per_photo = []
        photo_faces = 0
        for photo in photos:
            seconds, faces = timed_predict([photo], config, classifier)
            per_photo.append(seconds)
            photo_faces += faces
        photo_base = baseline(photos, classifier, settings.max_pixels, settings.min_face_confidence)
        print(
            f"\n{len(photos)} photos ({', '.join(map(str, PHOTO_SIDES))} px squares), "
            f"{photo_faces} faces found:"
        )
        for name, values in (("fer predict", per_photo), ("baseline", photo_base)):
            print(
                f"  {name:11}: mean {statistics.mean(values):.3f} s, median "
                f"{statistics.median(values):.3f} s, slowest {max(values):.3f} s per photo"
            )
        print(
            "  ratio (baseline / fer mean latency): "
            f"{statistics.mean(photo_base) / statistics.mean(per_photo):.2f}"
        )
        by_side = {side: statistics.mean(per_photo[i * 5 : i * 5 + 5]) for i, side in enumerate(PHOTO_SIDES)}
        print(
            "  mean latency by side: "
            + ", ".join(f"{side} px {value:.3f} s" for side, value in by_side.items())
        )


if __name__ == "__main__":
    main()
