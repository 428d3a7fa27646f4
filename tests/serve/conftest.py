"""A champion model trained for one epoch on real faces, shared by this folder's tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml

from fer.config import Config, load_config
from fer.evaluate import evaluate
from fer.faces import load_faces
from fer.register import register
from fer.tracking import prepare_tracking
from fer.train import train
from tests.conftest import PROJECT_ROOT, build_faces, tiny_params

ASSETS = PROJECT_ROOT / "tests" / "assets"


@dataclass(frozen=True)
class Champion:
    params: Path
    config: Config
    tracking_uri: str
    test_faces: np.ndarray


@pytest.fixture(scope="package")
def champion(tmp_path_factory, sample_csv) -> Iterator[Champion]:
    """Train, evaluate and register the quick CNN for one epoch; it becomes the champion."""
    with pytest.MonkeyPatch.context() as patch:
        # MLflow keeps the store in MLFLOW_TRACKING_URI; undo that after this folder's tests.
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        yield _train_champion(tmp_path_factory.mktemp("champion"), sample_csv)


def _train_champion(folder: Path, sample_csv: Path) -> Champion:
    tracking_uri = f"sqlite:///{folder / 'mlflow.db'}"
    params = tiny_params(sample_csv, tracking_uri)
    params["tracking"]["artifact_root"] = str(folder / "mlartifacts")
    params_path = folder / "params.yaml"
    params_path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    config = load_config(params_path)

    faces = build_faces(folder, sample_csv, config)
    prepare_tracking(config.tracking)
    run_id = train(faces, "cnn", config, folder / "train")
    evaluate(faces, run_id, config, folder / "evaluate")
    decision = register([run_id], config, data_version="test-sample")
    assert decision["promoted"]
    test_faces, _ = load_faces(faces).split("test")
    test_faces = test_faces.reshape(-1, 48, 48)
    return Champion(params_path, config, tracking_uri, test_faces)
