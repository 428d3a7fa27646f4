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

from fer.config import DataConfig, QualityConfig
from fer.errors import DataValidationError
from fer.faces import PIXELS_PER_FACE
from fer.ingest import USAGE_TO_SPLIT
from fer.quality import class_balance, find_quality_issues, rows_to_drop, summarise

logger = logging.getLogger(__name__)

SUITE_NAME = "fer2013"
# One to three digits per grey level, single spaces between them: anything else
# (letters, signs, decimals, doubled spaces) is malformed.
PIXELS_PATTERN = r"^\d{1,3}(?: \d{1,3})*$"
ROWS_SHOWN = 10
STATISTICS_COLUMNS = ["pixel_count", "pixel_min", "pixel_max"]


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
    """Run the suite on `table`, which add_pixel_statistics extended, and return a report."""
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
        batch_parameters={"dataframe": table},
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ["row"]},
    )
    return {
        "success": bool(result.success),
        "rows": len(table),
        "expectations": [_summarise(item) for item in result.results],
        "row_reasons": _row_reasons(result.results),
    }


def validate(
    table_path: str | Path,
    report_path: str | Path,
    clean_table_path: str | Path,
    quarantine_path: str | Path,
    data: DataConfig,
    quality: QualityConfig,
) -> dict[str, Any]:
    """Validate the ingested table, quarantine bad rows and write the good ones on.

    Rows that fail a row-level expectation go to `quarantine_path` (CSV with the
    line number, the reasons and the original fields); the rest go to
    `clean_table_path`. Raises DataValidationError when a table-level expectation
    fails (a missing column) or when the share of bad rows exceeds
    `data.max_bad_fraction`. Then applies the data-quality policies (blank faces,
    duplicates across splits, label conflicts) to the good rows, and records what
    it found and dropped in the report under `quality`.
    """
    table = pd.read_parquet(table_path)
    source = table.attrs.get("source", str(table_path))
    table = add_pixel_statistics(table)
    report = run_suite(table, data)
    row_reasons = report.pop("row_reasons")
    bad_fraction = len(row_reasons) / len(table)
    report.update(
        {"source": source, "quarantined_rows": len(row_reasons), "quarantine": str(quarantine_path)}
    )
    write_quarantine(table.drop(columns=STATISTICS_COLUMNS), row_reasons, quarantine_path)

    failed = [item for item in report["expectations"] if not item["success"]]
    details = "; ".join(_describe_failure(item) for item in failed)
    table_level = [item for item in failed if not item["unexpected_rows"]]
    if table_level or bad_fraction > data.max_bad_fraction:
        _write_json(report_path, report)
    if table_level:
        raise DataValidationError(f"data validation failed for {source}: {details} (report: {report_path})")
    if bad_fraction > data.max_bad_fraction:
        raise DataValidationError(
            f"data validation failed for {source}: {len(row_reasons)} of {len(table)} rows "
            f"({bad_fraction:.1%}) are invalid, above data.max_bad_fraction ({data.max_bad_fraction:.1%}): "
            f"{details}. Fix or remove those lines, or raise the limit; every bad line and its reason "
            f"is in {quarantine_path}"
        )

    clean = table[~table["row"].isin(list(row_reasons))]
    issues = find_quality_issues(clean, quality)
    dropped = rows_to_drop(clean, issues, quality)
    clean = clean[~clean["row"].isin(list(dropped))].drop(columns=STATISTICS_COLUMNS).reset_index(drop=True)
    report["quality"] = summarise(issues, dropped, class_balance(clean, data.class_names))
    _write_json(report_path, report)
    logger.info(
        "Data quality of %s: %s; %d rows dropped by the quality policies",
        source,
        report["quality"]["counts"],
        len(dropped),
    )

    clean.attrs["source"] = source
    Path(clean_table_path).parent.mkdir(parents=True, exist_ok=True)
    clean.to_parquet(clean_table_path, index=False)
    if row_reasons:
        logger.warning(
            "Quarantined %d of %d rows of %s (%s) to %s: %s",
            len(row_reasons),
            len(table),
            source,
            f"{bad_fraction:.2%}",
            quarantine_path,
            details,
        )
    else:
        logger.info("All %d expectations passed on %d rows", len(report["expectations"]), len(table))
    return report


def write_quarantine(table: pd.DataFrame, row_reasons: dict[int, list[str]], path: str | Path) -> Path:
    """Write the bad rows with their line number and reasons; a header alone when none is bad."""
    bad = table[table["row"].isin(list(row_reasons))].copy()
    bad.insert(1, "reason", [" | ".join(row_reasons[int(row)]) for row in bad["row"]])
    bad = bad.rename(columns={"row": "line", "usage": "Usage"}).drop(columns=["split"], errors="ignore")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    bad.to_csv(path, index=False)
    return path


def _row_reasons(results) -> dict[int, list[str]]:
    # Maps each failing line number to one reason per expectation it failed.
    reasons: dict[int, list[str]] = {}
    for item in results:
        config = item.expectation_config
        column = config.kwargs.get("column")
        for entry in (item.result or {}).get("unexpected_index_list") or []:
            value = entry.get(column)
            value_text = "null" if value is None or pd.isna(value) else _plain(value)
            reason = f"{column} {value_text}: expected {_expected(config.kwargs)}"
            reasons.setdefault(int(entry["row"]), []).append(reason)
    return dict(sorted(reasons.items()))


def _write_json(path: str | Path, content: dict[str, Any]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")


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
    listed_rows = ", ".join(str(row) for row in rows[:ROWS_SHOWN])
    more = f" and {len(rows) - ROWS_SHOWN} more" if len(rows) > ROWS_SHOWN else ""
    values = ", ".join(item["unexpected_values"][:3])
    return f"{name} failed on line(s) {listed_rows}{more} (values: {values}; expected {item['expected']})"


def _expected(kwargs: dict[str, Any]) -> str:
    if "value_set" in kwargs:
        return "one of " + ", ".join(str(value) for value in kwargs["value_set"])
    if "regex" in kwargs:
        return "integers separated by single spaces"
    low, high = _number(kwargs.get("min_value")), _number(kwargs.get("max_value"))
    if low is not None and low == high:
        return low
    if low is not None or high is not None:
        return f"{low} to {high}"
    return "a value"


def _number(value: Any) -> str | None:
    # Great Expectations stores bounds as floats; 2304.0 reads better as 2304.
    if value is None:
        return None
    return str(int(value)) if float(value).is_integer() else str(value)


def _plain(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."
