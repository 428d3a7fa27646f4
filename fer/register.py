"""Register the best candidate in the MLflow Model Registry and point the alias at it."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import mlflow
from mlflow import MlflowClient

from fer.config import Config
from fer.errors import FerError
from fer.evaluate import EVALUATED_SPLITS
from fer.tracking import git_commit, use_experiment

logger = logging.getLogger(__name__)

EVALUATION_METRICS = tuple(
    f"{split}_{name}" for split in EVALUATED_SPLITS for name in ("accuracy", "macro_f1")
)


def candidate_summaries(run_ids: list[str], selection_metric: str) -> list[dict[str, Any]]:
    """Return each run's name, model URI and metrics; raise if a run lacks the selection metric."""
    client = MlflowClient()
    summaries = []
    for run_id in run_ids:
        run = client.get_run(run_id)
        if selection_metric not in run.data.metrics:
            raise FerError(
                f"MLflow run {run_id} has no metric {selection_metric!r}; evaluate it before registering"
            )
        summaries.append(
            {
                "run_id": run_id,
                "candidate": run.data.tags.get("candidate", run.info.run_name),
                "model_uri": run.data.tags["model_uri"],
                "test_split": run.data.tags.get("test_split", "test"),
                "metrics": dict(run.data.metrics),
                "params": dict(run.data.params),
            }
        )
    return summaries


def register(
    run_ids: list[str],
    config: Config,
    *,
    data_version: str,
    flow_run_id: str | None = None,
    output: str | Path | None = None,
) -> dict[str, Any]:
    """Register the candidate with the best selection metric and point the alias at it.

    The new model version carries the data version (DVC md5 of the source file),
    the git commit, the Prefect flow run id and the metrics as tags. Returns a
    summary of the decision, also written as JSON to `output` when given.
    """
    use_experiment(config.tracking)
    settings = config.register
    summaries = candidate_summaries(run_ids, settings.selection_metric)
    best = max(summaries, key=lambda summary: summary["metrics"][settings.selection_metric])

    tags = {
        "data_version": data_version,
        "git_commit": git_commit() or "unknown",
        "prefect_flow_run_id": flow_run_id or "none",
        "profile": config.profile,
        "candidate": best["candidate"],
        "label_map": json.dumps(dict(enumerate(config.data.class_names))),
    }
    for metric in (settings.selection_metric, *EVALUATION_METRICS):
        if metric in best["metrics"]:
            tags[metric] = f"{best['metrics'][metric]:.4f}"
    version = mlflow.register_model(best["model_uri"], settings.model_name, tags=tags)
    MlflowClient().set_registered_model_alias(settings.model_name, settings.alias, version.version)
    logger.info(
        "Registered %s (run %s) as %s version %s with alias %r",
        best["candidate"],
        best["run_id"],
        settings.model_name,
        version.version,
        settings.alias,
    )

    decision = {
        "model_name": settings.model_name,
        "version": str(version.version),
        "alias": settings.alias,
        "champion_run_id": best["run_id"],
        "champion": best["candidate"],
        "selection_metric": settings.selection_metric,
        "data_version": data_version,
        "candidates": summaries,
    }
    if output is not None:
        output = Path(output)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(decision, indent=2) + "\n", encoding="utf-8")
    return decision
