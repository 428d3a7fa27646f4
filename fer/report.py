"""Markdown summary of a training run for the Prefect UI and the terminal."""

from __future__ import annotations

from typing import Any

SHOWN_METRICS = ("validation_accuracy", "validation_macro_f1", "test_accuracy", "test_macro_f1")


def summary_markdown(decision: dict[str, Any], tracking_uri: str) -> str:
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
    lines += [
        "",
        f"**Champion:** {decision['champion']} registered as `{decision['model_name']}` "
        f"version {decision['version']} with alias `{decision['alias']}` "
        f"(load it with `models:/{decision['model_name']}@{decision['alias']}`).",
        "",
        f"Tracking store: `{tracking_uri}`.",
    ]
    return "\n".join(lines) + "\n"
