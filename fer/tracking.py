"""MLflow set-up shared by the flow, the CLI and the DVC stages."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

from fer.config import TrackingConfig

logger = logging.getLogger(__name__)


def prepare_tracking(tracking: TrackingConfig) -> str:
    """Point MLflow at the configured store and create the experiment if needed.

    Runs once before the parallel trainings start, so two processes never race to
    create (and migrate) a new SQLite database or the same experiment. Returns
    the experiment id.
    """
    import mlflow

    uri = tracking.resolved_uri()
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.get_experiment_by_name(tracking.experiment)
    if experiment is not None:
        return experiment.experiment_id

    artifact_location = None
    if _is_local_store(uri):
        # An absolute file URI keeps artifacts where they are wherever a run starts.
        artifact_location = Path(tracking.artifact_root).resolve().as_uri()
    experiment_id = mlflow.create_experiment(tracking.experiment, artifact_location=artifact_location)
    logger.info("Created MLflow experiment %r (%s) in %s", tracking.experiment, experiment_id, uri)
    return experiment_id


def use_tracking_store(tracking: TrackingConfig) -> None:
    """Point MLflow at the configured store (the registry lives there too)."""
    import mlflow

    mlflow.set_tracking_uri(tracking.resolved_uri())


def use_experiment(tracking: TrackingConfig) -> None:
    """Point MLflow at the store and the experiment that prepare_tracking created."""
    import mlflow

    use_tracking_store(tracking)
    mlflow.set_experiment(tracking.experiment)


def git_commit() -> str | None:
    """Return the commit of the working folder's git repository, or None outside one."""
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip() or None


def _is_local_store(uri: str) -> bool:
    return uri.startswith(("sqlite:", "file:")) or "://" not in uri
