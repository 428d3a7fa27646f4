"""Register the best candidate in the MLflow Model Registry and gate the champion alias.

The flow's best candidate (by the selection metric) becomes a new model version.
It takes the champion alias only when it beats the current champion on the same
test split of the same data version. Otherwise it gets the alias `challenger`.
"""

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
from fer.registry import CHALLENGER_ALIAS, alias_version, decide, version_of_run
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
                "experiment_id": run.info.experiment_id,
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
    """Register the candidate with the best selection metric and gate the champion alias.

    The new model version carries the data version (DVC md5 of the source file),
    the git commit, the Prefect flow run id, the profile, the label map and the
    metrics as tags, and the reason for the alias decision as `promotion`. A run
    registered before keeps its version. Returns a summary of the decision, also
    written as JSON to `output` when given.
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

    client = MlflowClient()
    champion = alias_version(client, settings.model_name, settings.alias)
    version = version_of_run(client, settings.model_name, best["run_id"])
    if version is not None:
        # Registering the same run again adds no version; the alias stays as it is.
        promote, reason = False, f"run {best['run_id']} is already version {version.version}"
        if champion is None:
            promote, reason = True, "first registered model"
    else:
        outcome = decide(tags, champion, settings.compare_metric, settings.data_change_policy)
        promote, reason = outcome.promote, outcome.reason
        version = mlflow.register_model(best["model_uri"], settings.model_name, tags=tags)
    alias = settings.alias if promote else CHALLENGER_ALIAS
    if promote or champion is None or str(champion.version) != str(version.version):
        client.set_registered_model_alias(settings.model_name, alias, version.version)
    client.set_model_version_tag(settings.model_name, version.version, "promotion", reason)
    logger.info(
        "Registered %s (run %s) as %s version %s with alias %r: %s",
        best["candidate"],
        best["run_id"],
        settings.model_name,
        version.version,
        alias,
        reason,
    )

    decision = {
        "model_name": settings.model_name,
        "version": str(version.version),
        "alias": alias,
        "promoted": promote,
        "reason": reason,
        "previous_champion": str(champion.version) if champion is not None else None,
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
