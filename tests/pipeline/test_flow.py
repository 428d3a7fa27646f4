"""The Prefect flow end to end, against a real Prefect API and a real MLflow store.

One flow run trains both candidates for a few seconds on 360 real faces. The
tests below inspect what it left in MLflow, the registry and Prefect.
"""

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from prefect.testing.utilities import prefect_test_harness

from fer.config import load_config
from fer.faces import load_faces
from fer.paths import StagePaths

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def flow_result(tmp_path_factory, sample_csv):
    import yaml

    from tests.conftest import tiny_params

    folder = tmp_path_factory.mktemp("flow")
    params = tiny_params(sample_csv, f"sqlite:///{folder / 'mlflow.db'}")
    params["tracking"]["artifact_root"] = str(folder / "mlartifacts")
    params_path = folder / "params.yaml"
    params_path.write_text(yaml.safe_dump(params, sort_keys=False))

    from flows.training import training_flow

    with prefect_test_harness(server_startup_timeout=120):
        state = training_flow(params=str(params_path), output_dir=str(folder / "outputs"), return_state=True)
        artifacts = _artifacts()
    config = load_config(params_path)
    mlflow.set_tracking_uri(config.tracking.uri)
    return {"state": state, "config": config, "folder": folder, "artifacts": artifacts}


def _artifacts():
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        return client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["fer-training-summary", "fer-data-docs"])
            )
        )


def test_flow_completes(flow_result):
    assert flow_result["state"].is_completed()


def test_both_candidates_are_finished_runs_with_metrics(flow_result):
    config = flow_result["config"]
    client = MlflowClient(config.tracking.uri)
    experiment = client.get_experiment_by_name(config.tracking.experiment)
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(run.data.tags["candidate"] for run in runs) == ["cnn", "resnet50"]
    for run in runs:
        assert run.info.status == "FINISHED"
        for metric in ("test_accuracy", "test_macro_f1", "validation_accuracy", "loss", "val_accuracy"):
            assert metric in run.data.metrics, (run.info.run_name, metric)
        assert run.data.tags["test_split"] == "PrivateTest"
        assert run.data.params["validation_split"] == "PublicTest"
        history = client.get_metric_history(run.info.run_id, "val_loss")
        assert len(history) == 1  # One epoch in the test profile.
        artifacts = {item.path for item in client.list_artifacts(run.info.run_id, "plots")}
        assert {
            "plots/training_curves.png",
            "plots/confusion_matrix.png",
            "plots/misclassified.png",
        } <= artifacts


def test_champion_alias_points_at_best_validation_run(flow_result):
    config = flow_result["config"]
    client = MlflowClient(config.tracking.uri)
    version = client.get_model_version_by_alias(config.register.model_name, "champion")
    runs = {run_id: client.get_run(run_id) for run_id in _run_ids(client, config)}
    best = max(runs.values(), key=lambda run: run.data.metrics["validation_accuracy"])
    assert version.run_id == best.info.run_id
    assert len(version.tags["data_version"]) == 32
    assert version.tags["prefect_flow_run_id"] == str(flow_result["state"].state_details.flow_run_id)
    assert "git_commit" in version.tags


def test_champion_loads_and_predicts_class_probabilities(flow_result):
    config = flow_result["config"]
    model = mlflow.keras.load_model(f"models:/{config.register.model_name}@champion")
    faces, _ = load_faces(StagePaths(flow_result["folder"] / "outputs").faces).split("test")
    probabilities = model.predict(faces[:5].astype(np.float32), verbose=0)
    assert probabilities.shape == (5, len(config.data.class_names))


def test_summary_artifact_names_both_candidates(flow_result):
    artifacts = {artifact.key: artifact for artifact in flow_result["artifacts"]}
    assert set(artifacts) == {"fer-training-summary", "fer-data-docs"}
    markdown = artifacts["fer-training-summary"].data
    assert "| cnn |" in markdown
    assert "| resnet50 |" in markdown
    assert "**Best candidate:**" in markdown
    assert "promoted to `champion` (first registered model)" in markdown
    # Side by side: training speed, parameters, and links to the runs in the MLflow UI.
    assert "| images/s |" in markdown
    assert "| trainable_parameters |" in markdown
    assert "](http://127.0.0.1:5000/#/experiments/" in markdown


def _run_ids(client, config):
    experiment = client.get_experiment_by_name(config.tracking.experiment)
    return [run.info.run_id for run in client.search_runs([experiment.experiment_id])]


def test_data_docs_are_linked_and_logged(flow_result):
    link = next(artifact for artifact in flow_result["artifacts"] if artifact.key == "fer-data-docs")
    assert "index.html" in link.data
    assert (flow_result["folder"] / "outputs" / "validate" / "data_docs" / "index.html").is_file()
    config = flow_result["config"]
    client = MlflowClient(config.tracking.uri)
    run_id = _run_ids(client, config)[0]
    logged = [item.path for item in client.list_artifacts(run_id, "data/data_docs")]
    assert "data/data_docs/index.html" in logged
