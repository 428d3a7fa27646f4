"""Train one candidate model as one MLflow run."""

from __future__ import annotations

import json
import logging
import math
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras
import mlflow
import numpy as np
import tensorflow as tf
from mlflow.models import ModelSignature
from mlflow.types import Schema, TensorSpec

from fer.augment import SAMPLE_GRID
from fer.config import Config, ModelConfig
from fer.faces import FaceSet, load_faces
from fer.hardware import Runtime, configure_runtime
from fer.models import build_model
from fer.plots import training_curves
from fer.tracking import use_experiment

logger = logging.getLogger(__name__)

MODEL_ARTIFACT = "model"


BACKUP_DIR = "backup"
RESUME_RECORD = "resume.json"


def make_dataset(
    faces: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    *,
    shuffle_seed: int | None,
    repeat: bool = False,
    flip: bool = False,
    max_shift: float = 0.0,
):
    """Build a tf.data pipeline: uint8 faces cast to float32, shuffled, batched, prefetched.

    `flip` mirrors a random half of each batch and `max_shift` moves faces by up
    to that fraction of the side, on the fly (meant for the training split).
    """
    dataset = tf.data.Dataset.from_tensor_slices((faces, labels.astype(np.int32)))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(labels), seed=shuffle_seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    dataset = dataset.batch(batch_size)
    dataset = dataset.map(lambda x, y: (tf.cast(x, tf.float32), y), num_parallel_calls=tf.data.AUTOTUNE)
    augmenters = []
    if flip:
        augmenters.append(keras.layers.RandomFlip("horizontal", seed=shuffle_seed))
    if max_shift > 0:
        augmenters.append(
            keras.layers.RandomTranslation(max_shift, max_shift, fill_mode="nearest", seed=shuffle_seed)
        )
    if augmenters:
        augment = keras.Sequential(augmenters)
        dataset = dataset.map(
            lambda x, y: (augment(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE
        )
    return dataset.prefetch(tf.data.AUTOTUNE)


def train(
    faces_path: str | Path,
    model_name: str,
    config: Config,
    output_dir: str | Path,
    *,
    parallel_jobs: int = 1,
    tags: Mapping[str, str] | None = None,
    data_report: str | Path | None = None,
) -> str:
    """Train the candidate `model_name` on the stored faces and log it as one MLflow run.

    Writes `run.json` (run id and model URI) into `output_dir` and returns the run id.
    The MLflow experiment must exist (see fer.tracking.prepare_tracking). When
    `data_report` names the validation report, the run logs it with its
    data-quality counts as `data_*` metrics.
    """
    model_config = config.models[model_name]
    runtime = configure_runtime(parallel_jobs, model_config.threads)
    if config.train.deterministic:
        tf.config.experimental.enable_op_determinism()
    face_set = load_faces(faces_path)
    x_train, y_train = face_set.split("train")
    x_val, y_val = face_set.split("validation")
    batch_size = model_config.batch_size * runtime.batch_multiplier
    steps_per_epoch = model_config.steps_per_epoch or -(-len(y_train) // batch_size)

    keras.utils.set_random_seed(config.train.seed)
    model = _compile(model_config, len(face_set.class_names))
    train_data = make_dataset(
        x_train,
        y_train,
        batch_size,
        shuffle_seed=config.train.seed,
        repeat=model_config.steps_per_epoch is not None,
        flip=config.train.online_flip,
        max_shift=config.train.online_max_shift,
    )
    val_data = make_dataset(x_val, y_val, batch_size, shuffle_seed=None)

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    use_experiment(config.tracking)
    resumed_run = _interrupted_run(output_dir)
    run_tags = {"candidate": model_name, "profile": config.profile, **(tags or {})}
    with mlflow.start_run(
        run_id=resumed_run, run_name=None if resumed_run else model_name, tags=run_tags
    ) as run:
        if resumed_run:
            logger.info("Resuming MLflow run %s of %s from its last checkpoint", resumed_run, model_name)
        else:
            mlflow.log_params(_run_params(model_config, config, face_set, runtime, batch_size, model))
            (output_dir / RESUME_RECORD).write_text(json.dumps({"run_id": run.info.run_id}), encoding="utf-8")
        if data_report is not None and Path(data_report).is_file():
            _log_data_report(Path(data_report))
        sample_grid = Path(faces_path).with_name(SAMPLE_GRID)
        if sample_grid.is_file():
            mlflow.log_artifact(str(sample_grid), "plots")
        # EarlyStopping puts back the best epoch's weights whenever training ends.
        callbacks = _callbacks(model_config, config, output_dir, steps_per_epoch)
        epochs_before = len(_logged_history(run.info.run_id).get("loss", [])) if resumed_run else 0
        started = time.perf_counter()
        model.fit(
            train_data,
            validation_data=val_data,
            epochs=model_config.epochs,
            steps_per_epoch=model_config.steps_per_epoch,
            class_weight=class_weights(y_train, len(face_set.class_names), config.train.class_weight),
            callbacks=callbacks,
            verbose=1 if sys.stdout.isatty() else 2,
            shuffle=False,  # The tf.data pipeline shuffles.
        )
        seconds = time.perf_counter() - started
        history = _logged_history(run.info.run_id)
        _log_training_summary(history, seconds, steps_per_epoch * batch_size, epochs_before)
        model_uri = _log_model(model, model_name, history)
        mlflow.set_tag("model_uri", model_uri)
        run_id = run.info.run_id

    (output_dir / RESUME_RECORD).unlink(missing_ok=True)
    record = {"run_id": run_id, "model_uri": model_uri, "candidate": model_name}
    (output_dir / "run.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    _write_history(history, output_dir / "history.csv")
    logger.info("Trained %s in %.0f s: MLflow run %s", model_name, seconds, run_id)
    return run_id


def class_weights(labels: np.ndarray, num_classes: int, mode: str) -> dict[int, float] | None:
    """Return per-class loss weights from the training labels: None, or n / (classes x count)."""
    if mode == "none":
        return None
    counts = np.bincount(labels, minlength=num_classes)
    present = counts > 0
    weights = np.ones(num_classes)
    weights[present] = len(labels) / (present.sum() * counts[present])
    return {label: float(weight) for label, weight in enumerate(weights)}


def _compile(model_config: ModelConfig, num_classes: int):
    model = build_model(model_config.builder, num_classes, model_config.options)
    model.compile(
        # A float rate: the cosine and plateau callbacks change it during training.
        optimizer=keras.optimizers.Adam(model_config.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    return model


def _callbacks(model_config: ModelConfig, config: Config, output_dir: Path, steps_per_epoch: int) -> list:
    callbacks = [
        # Saves model, optimizer and epoch after every epoch; a rerun after an
        # interruption restores them and goes on from there.
        keras.callbacks.BackupAndRestore(str(output_dir / BACKUP_DIR)),
        _EpochMetrics(),
        keras.callbacks.EarlyStopping(
            monitor="val_loss",
            patience=config.train.early_stopping_patience,
            restore_best_weights=True,
            verbose=1,
        ),
    ]
    if config.train.lr_schedule == "cosine":
        callbacks.append(_CosineDecay(model_config, steps_per_epoch))
    if config.train.lr_schedule == "plateau":
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor="val_loss", factor=0.5, patience=2, min_lr=model_config.learning_rate / 100, verbose=1
            )
        )
    if model_config.max_minutes is not None:
        callbacks.append(_TimeBudget(model_config.max_minutes))
    return callbacks


def _interrupted_run(output_dir: Path) -> str | None:
    # A backup folder with a run record means the last training stopped part-way.
    record = output_dir / RESUME_RECORD
    if (output_dir / BACKUP_DIR).is_dir() and record.is_file():
        return json.loads(record.read_text(encoding="utf-8"))["run_id"]
    return None


def _logged_history(run_id: str) -> dict[str, list[float]]:
    # Read the per-epoch metrics back from MLflow, so a resumed run gets its whole curve.
    client = mlflow.MlflowClient()
    history: dict[str, list[float]] = {}
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        points = sorted(client.get_metric_history(run_id, key), key=lambda metric: metric.step)
        by_epoch = {metric.step: metric.value for metric in points}
        if by_epoch:
            history[key] = [by_epoch[step] for step in sorted(by_epoch)]
    return history


def _run_params(
    model_config: ModelConfig, config: Config, face_set: FaceSet, runtime: Runtime, batch_size: int, model
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "candidate": model_config.name,
        "builder": model_config.builder,
        "profile": config.profile,
        "epochs": model_config.epochs,
        "batch_size": batch_size,
        "learning_rate": model_config.learning_rate,
        "steps_per_epoch": model_config.steps_per_epoch or "all",
        "seed": config.train.seed,
        "early_stopping_patience": config.train.early_stopping_patience,
        "lr_schedule": config.train.lr_schedule,
        "class_weight": config.train.class_weight,
        "deterministic": config.train.deterministic,
        "online_flip": config.train.online_flip,
        "online_max_shift": config.train.online_max_shift,
        "max_minutes": model_config.max_minutes or "none",
        "train_faces": int((face_set.splits == "train").sum()),
        "validation_faces": int((face_set.splits == "validation").sum()),
        "validation_split": face_set.split_label("validation"),
        "class_names": ",".join(face_set.class_names),
        "device": runtime.device,
        "precision": runtime.precision,
        "cpu_threads": runtime.threads or "default",
        "trainable_parameters": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
    }
    params.update({f"option_{key}": value for key, value in model_config.options.items()})
    return params


def _log_training_summary(
    history: Mapping[str, list[float]], seconds: float, images_per_epoch: int, epochs_before: int
) -> None:
    # `seconds` covers this process only; a resumed run trained `epochs_before` epochs earlier.
    epochs = len(history.get("loss", []))
    images = epochs * images_per_epoch
    metrics = {
        "epochs_trained": epochs,
        "train_seconds": seconds,
        "train_images_per_second": (epochs - epochs_before) * images_per_epoch / seconds
        if seconds > 0
        else 0.0,
    }
    if history.get("val_loss"):
        # Early stopping restores these weights, so the logged model is from this epoch.
        metrics["best_epoch"] = int(np.argmin(history["val_loss"])) + 1
    mlflow.log_metrics(metrics)
    # Records what a step budget actually covered, so a capped model is not
    # mistaken for one that saw the whole training split.
    mlflow.log_param("train_images_seen", images)


def _log_model(model, model_name: str, history: Mapping[str, list[float]]) -> str:
    mlflow.log_figure(training_curves(history, f"{model_name} training"), "plots/training_curves.png")
    num_classes = int(model.output_shape[-1])
    signature = ModelSignature(
        inputs=Schema([TensorSpec(np.dtype(np.float32), (-1, *model.input_shape[1:]), "face")]),
        outputs=Schema([TensorSpec(np.dtype(np.float32), (-1, num_classes), "probabilities")]),
    )
    info = mlflow.keras.log_model(model, name=MODEL_ARTIFACT, signature=signature)
    return info.model_uri


def _log_data_report(path: Path) -> None:
    report = json.loads(path.read_text(encoding="utf-8"))
    mlflow.log_artifact(str(path), "data")
    docs = report.get("data_docs")
    if docs and Path(docs).is_file():
        mlflow.log_artifacts(str(Path(docs).parent), "data/data_docs")
    counts = report.get("quality", {}).get("counts", {})
    metrics = {f"data_{kind}": count for kind, count in counts.items()}
    metrics["data_quarantined_rows"] = report.get("quarantined_rows", 0)
    mlflow.log_metrics(metrics)


def _write_history(history: Mapping[str, list[float]], path: Path) -> None:
    # One row per epoch, the table `dvc plots` draws the training curves from.
    columns = ["epoch", *history]
    rows = [",".join(columns)]
    for epoch, values in enumerate(zip(*history.values(), strict=True), start=1):
        rows.append(",".join([str(epoch), *(f"{value:.6f}" for value in values)]))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


class _EpochMetrics(keras.callbacks.Callback):
    """Log every epoch's metrics to the active MLflow run, with the epoch as the step."""

    def on_epoch_end(self, epoch, logs=None):
        metrics = {key: float(value) for key, value in (logs or {}).items()}
        metrics["learning_rate"] = float(self.model.optimizer.learning_rate.numpy())
        mlflow.log_metrics(metrics, step=epoch)


class _CosineDecay(keras.callbacks.Callback):
    """Set the learning rate on a cosine from its start value down to 1% of it.

    Progress is the larger of the share of epochs done and the share of the
    model's time budget spent, so the rate reaches its floor at whichever limit
    ends the training first.
    """

    FLOOR = 0.01

    def __init__(self, model_config: ModelConfig, steps_per_epoch: int):
        super().__init__()
        self.start_rate = model_config.learning_rate
        self.total_steps = model_config.epochs * steps_per_epoch
        self.steps_per_epoch = steps_per_epoch
        self.seconds = model_config.max_minutes * 60 if model_config.max_minutes else None
        self.started = time.perf_counter()
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        progress = (self.epoch * self.steps_per_epoch + batch) / self.total_steps
        if self.seconds:
            progress = max(progress, (time.perf_counter() - self.started) / self.seconds)
        scale = self.FLOOR + (1 - self.FLOOR) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
        self.model.optimizer.learning_rate.assign(self.start_rate * scale)


class _TimeBudget(keras.callbacks.Callback):
    """Stop training once `minutes` have passed, at the end of the running batch."""

    def __init__(self, minutes: float):
        super().__init__()
        self.seconds = minutes * 60
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if time.perf_counter() - self.started > self.seconds:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.model.stop_training and time.perf_counter() - self.started > self.seconds:
            mlflow.set_tag("stopped_by", f"time budget of {self.seconds / 60:g} minutes")
