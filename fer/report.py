"""Markdown summary of a training run for the Prefect UI and the terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SHOWN_METRICS = ("validation_accuracy", "validation_macro_f1", "test_accuracy", "test_macro_f1")
# Training measurements shown after the metrics, with their column titles and formats.
SHOWN_TRAINING = (
    ("epochs_trained", "epochs", "{:.0f}"),
    ("train_seconds", "training s", "{:.0f}"),
    ("train_images_per_second", "images/s", "{:.0f}"),
)
# Run parameters compared side by side, when a candidate logged them.
SHOWN_PARAMS = (
    "builder",
    "trainable_parameters",
    "batch_size",
    "learning_rate",
    "lr_schedule",
    "max_minutes",
    "steps_per_epoch",
    "class_weight",
    "device",
    "precision",
    "cpu_threads",
    "train_images_seen",
)


def summary_markdown(
    decision: dict[str, Any],
    tracking_uri: str,
    data_report: str | Path | None = None,
    ui_url: str | None = None,
) -> str:
    """Render the candidates side by side and name the one that became champion.

    With `ui_url` (where `mlflow ui` serves the store), each run links to its page.
    """
    candidates = decision["candidates"]
    test_split = candidates[0]["test_split"]
    header = ["candidate", *SHOWN_METRICS, *(title for _, title, _ in SHOWN_TRAINING), "MLflow run"]
    lines = [
        "# FER2013 training summary",
        "",
        f"Test split: **{test_split}**. Selection metric: `{decision['selection_metric']}`. "
        f"Data version (md5): `{decision['data_version']}`.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for candidate in candidates:
        metrics = candidate["metrics"]
        cells = [candidate["candidate"]]
        cells += [f"{metrics[name]:.4f}" if name in metrics else "n/a" for name in SHOWN_METRICS]
        cells += [
            form.format(metrics[name]) if name in metrics else "n/a" for name, _, form in SHOWN_TRAINING
        ]
        cells.append(_run_link(candidate, ui_url))
        lines.append("| " + " | ".join(cells) + " |")
    promoted = decision.get("promoted", True)
    outcome = "promoted to" if promoted else "not promoted; it has the alias"
    lines += [
        "",
        f"**Best candidate:** {decision['champion']}, registered as `{decision['model_name']}` "
        f"version {decision['version']}, {outcome} `{decision['alias']}` "
        f"({decision.get('reason', 'first registered model')}). "
        f"Load it with `models:/{decision['model_name']}@{decision['alias']}`.",
        "",
        f"Tracking store: `{tracking_uri}`.",
    ]
    lines += _params_lines(candidates)
    if data_report is not None and Path(data_report).is_file():
        lines += _data_quality_lines(json.loads(Path(data_report).read_text(encoding="utf-8")))
    return "\n".join(lines) + "\n"


def _run_link(candidate: dict[str, Any], ui_url: str | None) -> str:
    run_id = candidate["run_id"]
    if not ui_url or "experiment_id" not in candidate:
        return f"`{run_id}`"
    return f"[{run_id[:8]}]({ui_url}/#/experiments/{candidate['experiment_id']}/runs/{run_id})"


def _params_lines(candidates: list[dict[str, Any]]) -> list[str]:
    logged = [name for name in SHOWN_PARAMS if any(name in c.get("params", {}) for c in candidates)]
    if not logged:
        return []
    options = sorted({name for c in candidates for name in c.get("params", {}) if name.startswith("option_")})
    header = ["parameter", *(candidate["candidate"] for candidate in candidates)]
    lines = ["", "## Parameters", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name in [*logged, *options]:
        values = [str(candidate.get("params", {}).get(name, "")) for candidate in candidates]
        lines.append("| " + " | ".join([name.removeprefix("option_"), *values]) + " |")
    return lines


def _data_quality_lines(report: dict[str, Any]) -> list[str]:
    quality = report.get("quality", {})
    lines = ["", "## Data quality", "", "| check | rows | first lines |", "|---|---|---|"]
    lines.append(
        f"| quarantined (invalid) | {report.get('quarantined_rows', 0)} | see `{report.get('quarantine')}` |"
    )
    for kind, count in quality.get("counts", {}).items():
        first = ", ".join(str(row) for row in quality["rows"][kind][:8])
        lines.append(f"| {kind.replace('_', ' ')} | {count} | {first} |")
    ratio = quality.get("class_balance", {}).get("largest_to_smallest_train_class")
    lines += ["", f"Rows dropped by the quality policies: {quality.get('dropped_by_policy', 0)}."]
    if ratio is not None:
        lines.append(f"Largest to smallest training class: {ratio:.1f} to 1.")
    return lines
