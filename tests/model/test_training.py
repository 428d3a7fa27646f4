"""Training on real faces: an interrupted run resumes, the loss goes down, the rate follows its schedule."""

from dataclasses import replace

import keras
import mlflow
import numpy as np
import pandas as pd
import pytest

from fer import train as train_module
from fer.tracking import prepare_tracking
from fer.train import class_weights
from tests.conftest import build_faces


@pytest.fixture()
def faces_file(tmp_path, sample_csv, config):
    """Return the augmented faces of the 360-face test sample."""
    return build_faces(tmp_path, sample_csv, config)


def _with_epochs(config, epochs: int):
    cnn = replace(config.models["cnn"], epochs=epochs)
    return replace(config, models={**config.models, "cnn": cnn})


class _Interrupt(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            raise KeyboardInterrupt("simulated interruption after the first epoch")


def test_training_resumes_and_lowers_the_loss(tmp_path, faces_file, config, monkeypatch):
    config = replace(_with_epochs(config, 2), train=replace(config.train, lr_schedule="cosine"))
    prepare_tracking(config.tracking)
    output = tmp_path / "train"
    make_callbacks = train_module._callbacks
    monkeypatch.setattr(train_module, "_callbacks", lambda *args: [*make_callbacks(*args), _Interrupt()])
    with pytest.raises(KeyboardInterrupt):
        train_module.train(faces_file, "cnn", config, output)
    assert (output / train_module.BACKUP_DIR).is_dir()
    assert (output / train_module.RESUME_RECORD).is_file()

    monkeypatch.setattr(train_module, "_callbacks", make_callbacks)
    run_id = train_module.train(faces_file, "cnn", config, output)
    losses = sorted(mlflow.MlflowClient().get_metric_history(run_id, "loss"), key=lambda metric: metric.step)
    # One epoch before the interruption and one after it, in the same MLflow run.
    assert [metric.step for metric in losses] == [0, 1]
    assert losses[1].value < losses[0].value
    assert len(pd.read_csv(output / "history.csv")) == 2
    # The cosine schedule falls over the epochs, across the interruption too.
    rates = sorted(
        mlflow.MlflowClient().get_metric_history(run_id, "learning_rate"), key=lambda metric: metric.step
    )
    start = config.models["cnn"].learning_rate
    assert start > rates[0].value > rates[1].value >= start * 0.01
    assert mlflow.get_run(run_id).info.status == "FINISHED"
    assert not (output / train_module.RESUME_RECORD).exists()
    assert not (output / train_module.BACKUP_DIR).exists()


def test_balanced_class_weights_follow_training_counts():
    labels = np.array([0] * 30 + [1] * 10 + [3] * 20)
    weights = class_weights(labels, 4, "balanced")
    assert weights[1] == pytest.approx(60 / (3 * 10))
    assert weights[0] == pytest.approx(60 / (3 * 30))
    assert weights[2] == 1.0  # absent from training
    assert class_weights(labels, 4, "none") is None
