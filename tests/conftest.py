"""Shared fixtures: a small real sample of faces and settings sized for tests.

Every test works on real FER2013 faces cut from the bundled sample, and on the
project's own params.yaml with only the training budget shrunk.
"""

from __future__ import annotations

import gzip
import os
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

from fer.config import Config, bundled_sample_path, load_config

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# Faces per Kaggle split in the test sample: a few hundred in all.
SAMPLE_ROWS = {"Training": 240, "PublicTest": 60, "PrivateTest": 60}

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# The parsed-CSV cache of every test run (and its subprocesses) stays out of the home folder.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="fer-test-cache-")


@pytest.fixture(scope="session")
def sample_table() -> pd.DataFrame:
    """Return 360 real faces from the bundled sample, the first rows of each split."""
    table = pd.read_csv(bundled_sample_path(), dtype={"pixels": str})
    parts = [table[table["Usage"] == usage].head(rows) for usage, rows in SAMPLE_ROWS.items()]
    return pd.concat(parts, ignore_index=True)


def rows_of_every_split(table: pd.DataFrame, per_split: int) -> pd.DataFrame:
    """Return the first `per_split` rows of each Usage value, renumbered from 0."""
    return table.groupby("Usage", sort=False).head(per_split).reset_index(drop=True)


@pytest.fixture(scope="session")
def sample_csv(tmp_path_factory, sample_table) -> Path:
    """Write the test sample as a gzip CSV in the Kaggle layout."""
    path = tmp_path_factory.mktemp("data") / "fer2013_test.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        sample_table.to_csv(handle, index=False)
    return path


def tiny_params(source: Path | str, tracking_uri: str) -> dict:
    """Return params.yaml's content with the quick profile shrunk to seconds of training."""
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["profile"] = "quick"
    params["data"]["source"] = str(source)
    params["tracking"]["uri"] = tracking_uri
    quick = params["profiles"]["quick"]["models"]
    quick["cnn"].update({"epochs": 1, "batch_size": 32})
    quick["resnet50"].update({"epochs": 1, "batch_size": 8, "steps_per_epoch": 2})
    return params


def build_faces(folder: Path, source: Path, config: Config) -> Path:
    """Run ingest, validate and augment on `source`; return the faces file for training."""
    from fer.augment import augment
    from fer.ingest import ingest
    from fer.validate import validate

    ingest(source, folder / "ingest.parquet", config.data)
    validate(
        folder / "ingest.parquet",
        folder / "report.json",
        folder / "clean.parquet",
        folder / "quarantine.csv",
        config.data,
        config.quality,
    )
    return augment(folder / "clean.parquet", folder / "faces.npz", config.augment, config.data)


@pytest.fixture(autouse=True)
def _restore_tracking_uri():
    """Undo MLFLOW_TRACKING_URI changes: mlflow.set_tracking_uri also sets the variable."""
    saved = os.environ.get("MLFLOW_TRACKING_URI")
    yield
    if saved is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = saved


@pytest.fixture()
def params_file(tmp_path, sample_csv) -> Path:
    """Write test params whose MLflow store is SQLite in the test's temporary folder."""
    path = tmp_path / "params.yaml"
    tracking_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    params = tiny_params(sample_csv, tracking_uri)
    params["tracking"]["artifact_root"] = str(tmp_path / "mlartifacts")
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture()
def config(params_file, monkeypatch) -> Config:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return load_config(params_file)
