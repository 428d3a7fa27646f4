"""Validate the ingested table with a Great Expectations suite.

The suite runs on the raw columns plus three derived per-row columns (pixel count,
minimum and maximum grey level), so a bad face is reported by its line number in
the source file rather than crashing the decoder later.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fer.config import DataConfig
from fer.errors import DataValidationError
from fer.faces import PIXELS_PER_FACE
from fer.ingest import USAGE_TO_SPLIT

logger = logging.getLogger(__name__)

SUITE_NAME = "fer2013"
# One to three digits per grey level, single spaces between them: anything else
# (letters, signs, decimals, doubled spaces) is malformed.
PIXELS_PATTERN = r"^\d{1,3}(?: \d{1,3})*$"
ROWS_SHOWN = 10


def add_pixel_statistics(table: pd.DataFrame) -> pd.DataFrame:
    """Add pixel_count, pixel_min and pixel_max columns, null where pixels are malformed."""
    table = table.copy()
    pixels = table["pixels"].fillna("")
    well_formed = pixels.str.fullmatch(PIXELS_PATTERN)
    table["pixel_count"] = (pixels.str.count(" ") + 1).where(well_formed).astype("Int64")
    table["pixel_min"] = pd.Series(pd.NA, index=table.index, dtype="Int64")
    table["pixel_max"] = pd.Series(pd.NA, index=table.index, dtype="Int64")

    # Rows of the right length decode in one call; the few others one by one.
    full = well_formed & (table["pixel_count"] == PIXELS_PER_FACE)
    if full.any():
        values = np.fromstring(" ".join(pixels[full]), dtype=np.uint16, sep=" ")
        values = values.reshape(-1, PIXELS_PER_FACE)
        table.loc[full, "pixel_min"] = values.min(axis=1)
        table.loc[full, "pixel_max"] = values.max(axis=1)
    for index in table.index[well_formed & ~full]:
        values = np.fromstring(pixels[index], dtype=np.uint16, sep=" ")
        table.loc[index, "pixel_min"] = int(values.min())
        table.loc[index, "pixel_max"] = int(values.max())
    return table


def build_suite(data: DataConfig, has_usage: bool):
    """Build the expectation suite for a FER2013 table."""
    import great_expectations as gx

    expectations = gx.expectations
    suite = gx.ExpectationSuite(name=SUITE_NAME)
    columns = ["emotion", "pixels", "split"] + (["usage"] if has_usage else [])
    suite.add_expectation(expectations.ExpectTableRowCountToBeBetween(min_value=1))
    for column in columns:
        suite.add_expectation(expectations.ExpectColumnToExist(column=column))
        suite.add_expectation(expectations.ExpectColumnValuesToNotBeNull(column=column))
    suite.add_expectation(
        expectations.ExpectColumnValuesToBeInSet(column="emotion", value_set=list(data.labels))
    )
    if has_usage:
        suite.add_expectation(
            expectations.ExpectColumnValuesToBeInSet(column="usage", value_set=list(USAGE_TO_SPLIT))
        )
    suite.add_expectation(expectations.ExpectColumnValuesToMatchRegex(column="pixels", regex=PIXELS_PATTERN))
    suite.add_expectation(
        expectations.ExpectColumnValuesToBeBetween(
            column="pixel_count", min_value=PIXELS_PER_FACE, max_value=PIXELS_PER_FACE
        )
    )
    suite.add_expectation(
        expectations.ExpectColumnValuesToBeBetween(column="pixel_min", min_value=0, max_value=255)
    )
    suite.add_expectation(
        expectations.ExpectColumnValuesToBeBetween(column="pixel_max", min_value=0, max_value=255)
    )
    return suite


def run_suite(table: pd.DataFrame, data: DataConfig) -> dict[str, Any]:
    """Run the suite on `table` and return a JSON-ready report."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    has_usage = "usage" in table.columns
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_definition = (
        context.data_sources.add_pandas("fer")
        .add_dataframe_asset("faces")
        .add_batch_definition_whole_dataframe("all rows")
    )
    suite = context.suites.add(build_suite(data, has_usage))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name="fer2013 table", data=batch_definition, suite=suite)
    )
    result = definition.run(
        batch_parameters={"dataframe": add_pixel_statistics(table)},
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ["row"]},
    )
    return {
        "success": bool(result.success),
        "rows": len(table),
        "expectations": [_summarise(item) for item in result.results],
    }


def validate(table_path: str | Path, report_path: str | Path, data: DataConfig) -> dict[str, Any]:
    """Validate the Parquet table at `table_path` and write the report as JSON.

    Raises DataValidationError naming each failed expectation and its first rows.
    """
    table = pd.read_parquet(table_path)
    report = run_suite(table, data)
    report["table"] = str(table_path)
    report_path = Path(report_path)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")

    failed = [item for item in report["expectations"] if not item["success"]]
    if failed:
        source = table.attrs.get("source", str(table_path))
        details = "; ".join(_describe_failure(item) for item in failed)
        raise DataValidationError(
            f"data validation failed for {source}: {details}. Fix or remove those lines and rerun "
            f"(full report: {report_path})"
        )
    logger.info("All %d expectations passed on %d rows", len(report["expectations"]), len(table))
    return report


def _summarise(item) -> dict[str, Any]:
    config = item.expectation_config
    result = item.result or {}
    rows = [int(entry["row"]) for entry in result.get("unexpected_index_list") or []]
    values = [_plain(value) for value in result.get("unexpected_list") or []]
    return {
        "expectation": config.type,
        "column": config.kwargs.get("column"),
        "expected": _expected(config.kwargs),
        "success": bool(item.success),
        "unexpected_count": int(result.get("unexpected_count") or 0),
        "unexpected_rows": rows,
        "unexpected_values": values[:ROWS_SHOWN],
        "error": (item.exception_info or {}).get("exception_message"),
    }


def _describe_failure(item: dict[str, Any]) -> str:
    name = f"{item['expectation']}({item['column']})" if item["column"] else item["expectation"]
    rows = item["unexpected_rows"]
    if not rows:
        return f"{name} failed"
    shown = ", ".join(str(row) for row in rows[:ROWS_SHOWN])
    more = f" and {len(rows) - ROWS_SHOWN} more" if len(rows) > ROWS_SHOWN else ""
    values = ", ".join(item["unexpected_values"][:3])
    return f"{name} failed on line(s) {shown}{more} (values: {values}; expected {item['expected']})"


def _expected(kwargs: dict[str, Any]) -> str:
    if "value_set" in kwargs:
        return "one of " + ", ".join(str(value) for value in kwargs["value_set"])
    if "regex" in kwargs:
        return "integers separated by single spaces"
    if kwargs.get("min_value") is not None and kwargs.get("min_value") == kwargs.get("max_value"):
        return str(kwargs["min_value"])
    if "min_value" in kwargs or "max_value" in kwargs:
        return f"{kwargs.get('min_value')} to {kwargs.get('max_value')}"
    return "a value"


def _plain(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."
