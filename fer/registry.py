"""Champion/challenger decisions and hand promotions in the MLflow Model Registry."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from fer.errors import FerError

logger = logging.getLogger(__name__)

CHALLENGER_ALIAS = "challenger"
DATA_CHANGE_POLICIES = ("challenger", "promote", "compare")


@dataclass(frozen=True)
class Decision:
    """Whether a new version takes the champion alias, and why."""

    promote: bool
    reason: str


def version_of_run(client: MlflowClient, model_name: str, run_id: str):
    """Return the model version already registered from `run_id`, or None."""
    versions = client.search_model_versions(f"name = '{model_name}' and run_id = '{run_id}'")
    return min(versions, key=lambda version: int(version.version)) if versions else None


def alias_version(client: MlflowClient, model_name: str, alias: str):
    """Return the version that `alias` points at, or None when the alias is not set."""
    try:
        return client.get_model_version_by_alias(model_name, alias)
    except MlflowException:
        return None


def decide(
    candidate_tags: dict[str, str], champion, compare_metric: str, data_change_policy: str
) -> Decision:
    """Compare a candidate version's tags with the champion version's.

    The candidate wins only with a higher `compare_metric` on the same data version.
    On another data version, `data_change_policy` decides: challenger (never
    promote), promote (always), or compare (compare the metric anyway).
    """
    if champion is None:
        return Decision(True, "first registered model")
    if candidate_tags.get("candidate_run_id") == champion.run_id:
        return Decision(True, f"same run as champion version {champion.version}")
    champion_value = _metric(champion.tags, compare_metric)
    candidate_value = _metric(candidate_tags, compare_metric)
    same_data = champion.tags.get("data_version") == candidate_tags.get("data_version")
    if not same_data:
        other = f"champion version {champion.version} was trained on data {champion.tags.get('data_version')}"
        if data_change_policy == "promote":
            return Decision(True, f"{other}; register.data_change_policy is promote")
        if data_change_policy == "challenger":
            return Decision(False, f"{other}, so the scores are not comparable (register.data_change_policy)")
    if champion_value is None:
        return Decision(True, f"champion version {champion.version} has no {compare_metric}")
    if candidate_value is not None and candidate_value > champion_value:
        return Decision(
            True,
            f"{compare_metric} {candidate_value:.4f} beats champion version {champion.version} "
            f"({champion_value:.4f})",
        )
    return Decision(
        False,
        f"{compare_metric} {_text(candidate_value)} does not beat champion version {champion.version} "
        f"({champion_value:.4f})",
    )


def list_versions(model_name: str) -> list[dict[str, Any]]:
    """Return every version of `model_name` with its aliases and metric tags, newest first."""
    client = MlflowClient()
    try:
        model = client.get_registered_model(model_name)
    except MlflowException as error:
        raise FerError(
            f"no registered model {model_name!r} in the tracking store; run `fer run` first"
        ) from error
    aliases: dict[str, list[str]] = {}
    for alias, version in (model.aliases or {}).items():
        aliases.setdefault(str(version), []).append(alias)
    rows = []
    for version in client.search_model_versions(f"name = '{model_name}'"):
        rows.append(
            {
                "version": int(version.version),
                "aliases": sorted(aliases.get(str(version.version), [])),
                "candidate": version.tags.get("candidate", ""),
                "test_accuracy": version.tags.get("test_accuracy", ""),
                "test_macro_f1": version.tags.get("test_macro_f1", ""),
                "data_version": version.tags.get("data_version", ""),
                "run_id": version.run_id,
            }
        )
    return sorted(rows, key=lambda row: row["version"], reverse=True)


def point_alias(model_name: str, alias: str, version: int) -> None:
    """Point `alias` at `version` by hand (a promotion or a rollback)."""
    client = MlflowClient()
    try:
        client.get_model_version(model_name, str(version))
    except MlflowException as error:
        raise FerError(
            f"{model_name} has no version {version}; `fer models list` shows the versions"
        ) from error
    client.set_registered_model_alias(model_name, alias, str(version))
    logger.info("Alias %r of %s now points at version %s", alias, model_name, version)


def _metric(tags: dict[str, str], name: str) -> float | None:
    try:
        return float(tags[name])
    except (KeyError, ValueError):
        return None


def _text(value: float | None) -> str:
    return "missing" if value is None else f"{value:.4f}"
