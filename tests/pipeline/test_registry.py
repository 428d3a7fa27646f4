"""Champion/challenger gating in a real MLflow registry (SQLite in a temporary folder)."""

import keras
import mlflow
import pytest
from mlflow import MlflowClient

from fer.errors import FerError
from fer.register import register
from fer.registry import list_versions, point_alias
from fer.tracking import prepare_tracking


@pytest.fixture()
def tracked(config):
    prepare_tracking(config.tracking)
    mlflow.set_experiment(config.tracking.experiment)
    return config


def _candidate_run(name: str, test_accuracy: float) -> str:
    """Log a tiny real Keras model as a finished, evaluated candidate run."""
    inputs = keras.Input((48, 48, 1))
    model = keras.Model(inputs, keras.layers.Dense(7, activation="softmax")(keras.layers.Flatten()(inputs)))
    with mlflow.start_run(run_name=name, tags={"candidate": name}) as run:
        info = mlflow.keras.log_model(model, name="model")
        mlflow.set_tag("model_uri", info.model_uri)
        mlflow.log_metrics(
            {
                "validation_accuracy": test_accuracy,
                "validation_macro_f1": test_accuracy / 2,
                "test_accuracy": test_accuracy,
                "test_macro_f1": test_accuracy / 2,
            }
        )
    return run.info.run_id


def _aliases(config) -> dict[str, str]:
    aliases = MlflowClient().get_registered_model(config.register.model_name).aliases
    return {alias: str(version) for alias, version in aliases.items()}


def test_champion_moves_only_for_a_better_model(tracked):
    first = register([_candidate_run("a", 0.50)], tracked, data_version="d1")
    assert first["promoted"] is True
    assert first["reason"] == "first registered model"
    assert _aliases(tracked) == {"champion": "1"}

    worse = register([_candidate_run("b", 0.40)], tracked, data_version="d1")
    assert worse["promoted"] is False
    assert "does not beat champion version 1" in worse["reason"]
    assert _aliases(tracked) == {"champion": "1", "challenger": "2"}

    better = register([_candidate_run("c", 0.60)], tracked, data_version="d1")
    assert better["promoted"] is True
    assert _aliases(tracked)["champion"] == "3"


def test_reregistering_a_run_adds_no_version(tracked):
    run_id = _candidate_run("a", 0.50)
    register([run_id], tracked, data_version="d1")
    again = register([run_id], tracked, data_version="d1")
    versions = MlflowClient().search_model_versions(f"name = '{tracked.register.model_name}'")
    assert len(versions) == 1
    assert again["version"] == "1"
    assert _aliases(tracked) == {"champion": "1"}


def test_other_data_version_is_a_challenger_by_default(tracked):
    register([_candidate_run("a", 0.50)], tracked, data_version="d1")
    other = register([_candidate_run("b", 0.90)], tracked, data_version="d2")
    assert other["promoted"] is False
    assert "not comparable" in other["reason"]
    assert _aliases(tracked) == {"champion": "1", "challenger": "2"}


def test_hand_promotion_and_rollback(tracked):
    register([_candidate_run("a", 0.50)], tracked, data_version="d1")
    register([_candidate_run("b", 0.60)], tracked, data_version="d1")
    point_alias(tracked.register.model_name, "champion", 1)
    assert _aliases(tracked)["champion"] == "1"
    rows = list_versions(tracked.register.model_name)
    assert [row["version"] for row in rows] == [2, 1]
    assert rows[1]["aliases"] == ["champion"]
    with pytest.raises(FerError, match="has no version 7"):
        point_alias(tracked.register.model_name, "champion", 7)
