"""`dvc repro` reruns the stages from dvc.yaml in a fresh git repository."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import PROJECT_ROOT, tiny_params

pytestmark = pytest.mark.slow


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    completed = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, f"{' '.join(command)} failed:\n{completed.stdout}\n{completed.stderr}"
    return completed


@pytest.fixture(scope="module")
def repo(tmp_path_factory, sample_csv):
    repo = tmp_path_factory.mktemp("dvc-repo")
    for name in ("fer", "flows"):
        shutil.copytree(PROJECT_ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PROJECT_ROOT / "dvc.yaml", repo / "dvc.yaml")
    shutil.copy(sample_csv, repo / "faces.csv.gz")
    params = tiny_params("faces.csv.gz", f"sqlite:///{repo / 'mlflow.db'}")
    # One candidate keeps the test short; the flow test trains both side by side.
    params["train"]["candidates"] = ["cnn"]
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (repo / ".gitignore").write_text("/mlflow.db\n/mlartifacts/\n")

    env = {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}
    # The `fer` command of the environment running the tests.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    _run(["git", "init", "-q"], repo, env)
    _run(
        [
            "git",
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@example.com",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "empty",
        ],
        repo,
        env,
    )
    _run(["dvc", "init", "-q"], repo, env)
    _run(["dvc", "config", "core.analytics", "false"], repo, env)
    first = _run(["dvc", "repro"], repo, env)
    second = _run(["dvc", "repro"], repo, env)
    return {"path": repo, "env": env, "first": first.stdout, "second": second.stdout}


def test_repro_runs_every_stage(repo):
    for stage in (
        "ingest",
        "validate",
        "augment",
        "train@cnn",
        "evaluate@cnn",
        "register",
    ):
        assert f"Running stage '{stage}'" in repo["first"], stage
    lock = yaml.safe_load((repo["path"] / "dvc.lock").read_text())
    assert set(lock["stages"]) >= {"ingest", "augment", "train@cnn", "register"}


def test_second_repro_reruns_nothing(repo):
    assert "Running stage" not in repo["second"]


def test_metrics_and_registration_are_written(repo):
    metrics = json.loads((repo["path"] / "outputs/evaluate/cnn/metrics.json").read_text())
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert metrics["test_split"] == "PrivateTest"
    metrics_output = _run(["dvc", "metrics", "show", "--json"], repo["path"], repo["env"]).stdout
    assert "test_accuracy" in metrics_output
    decision = json.loads((repo["path"] / "outputs/register/registration.json").read_text())
    assert decision["alias"] == "champion"
    assert decision["champion"] == "cnn"


def test_augmented_faces_are_tracked_by_dvc(repo):
    lock = yaml.safe_load((repo["path"] / "dvc.lock").read_text())
    outs = {out["path"]: out for out in lock["stages"]["augment"]["outs"]}
    assert len(outs["outputs/augment/faces.npz"]["md5"]) == 32
