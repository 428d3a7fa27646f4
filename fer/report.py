"""Markdown summary of a training run for the Prefect UI and the terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SHOWN_METRICS = ("validation_accuracy", "validation_macro_f1", "test_accuracy", "test_macro_f1")


def summary_markdown(
    decision: dict[str, Any], tracking_uri: str, data_report: str | Path | None = None
) -> str:
    """Render the candidates side by side and name the one that became champion."""
    test_split = decision["candidates"][0]["test_split"]
    header = ["candidate", *SHOWN_METRICS, "train_seconds", "MLflow run"]
    lines = [
        "# FER2013 training summary",
        "",
        f"Test split: **{test_split}**. Selection metric: `{decision['selection_metric']}`. "
        f"Data version (md5): `{decision['data_version']}`.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for candidate in decision["candidates"]:
        metrics = candidate["metrics"]
        cells = [candidate["candidate"]]
        cells += [f"{metrics[name]:.4f}" if name in metrics else "n/a" for name in SHOWN_METRICS]
        cells.append(f"{metrics.get('train_seconds', float('nan')):.0f}")
        cells.append(f"`{candidate['run_id']}`")
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
    if data_report is not None and Path(data_report).is_file():
        lines += _data_quality_lines(json.loads(Path(data_report).read_text(encoding="utf-8")))
    return "\n".join(lines) + "\n"


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
