"""Validate the ingested table with a Great Expectations suite.

The reader already decoded each face and recorded, per line, the field count,
the number of grey levels and their range. The suite checks those columns with
the labels and Usage values, so a bad face is reported by its line number in
the source file, and the check runs on small columns rather than on 300 MB of
pixel text.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fer.config import DataConfig, QualityConfig
from fer.errors import DataValidationError
from fer.ingest import USAGE_TO_SPLIT
from fer.quality import class_balance, find_quality_issues, rows_to_drop, summarise
from fer.rawfaces import PIXELS_PER_FACE

logger = logging.getLogger(__name__)

SUITE_NAME = "fer2013"
ROWS_SHOWN = 10
# Columns the reader derived; where the reader found the problem, its words are the reason.
READER_COLUMNS = ("field_count", "pixel_count", "pixel_min", "pixel_max")
WORK_COLUMNS = ["field_count", "pixel_count", "pixel_min", "pixel_max", "problem", "original"]
DATA_DOCS_SITE = "local_site"


def build_suite(data: DataConfig, has_usage: bool, field_count: int):
    """Build the expectation suite for a FER2013 table."""
    import great_expectations as gx

    expectations = gx.expectations
    suite = gx.ExpectationSuite(name=SUITE_NAME)
    columns = ["emotion", "split", "field_count", "pixel_count"] + (["usage"] if has_usage else [])
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
    suite.add_expectation(
        expectations.ExpectColumnValuesToBeBetween(
            column="field_count", min_value=field_count, max_value=field_count
        )
    )
    suite.add_expectation(
        expectations.ExpectColumnValuesToBeBetween(
            column="pixel_count", min_value=PIXELS_PER_FACE, max_value=PIXELS_PER_FACE
        )
    )
    for column in ("pixel_min", "pixel_max"):
        suite.add_expectation(
            expectations.ExpectColumnValuesToBeBetween(column=column, min_value=0, max_value=255)
        )
    return suite


def run_suite(table: pd.DataFrame, data: DataConfig, docs_dir: str | Path | None = None) -> dict[str, Any]:
    """Run the suite on the ingested `table` and return a report.

    With `docs_dir`, a checkpoint also writes Great Expectations Data Docs (static
    HTML: the suite and this validation result) to that folder.
    """
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
    field_count = int(table.attrs.get("field_count", 3 if has_usage else 2))
    suite = context.suites.add(build_suite(data, has_usage, field_count))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name="fer2013 table", data=batch_definition, suite=suite)
    )
    actions = []
    if docs_dir is not None:
        docs_dir = Path(docs_dir).resolve()
        shutil.rmtree(docs_dir, ignore_errors=True)
        context.add_data_docs_site(
            site_name="fer_data_docs",
            site_config={
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
            },
        )
        actions.append(gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=["fer_data_docs"]))
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name="fer2013 checkpoint",
            validation_definitions=[definition],
            actions=actions,
            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ["row"]},
        )
    )
    suite_columns = ["row", "emotion", "split", *READER_COLUMNS] + (["usage"] if has_usage else [])
    outcome = checkpoint.run(batch_parameters={"dataframe": table[suite_columns]})
    result = next(iter(outcome.run_results.values()))
    return {
        "success": bool(result.success),
        "rows": len(table),
        "expectations": [_summarise(item) for item in result.results],
        "row_reasons": _row_reasons(result.results, table),
        "data_docs": str(docs_dir / "index.html") if docs_dir is not None else None,
    }


def validate(
    table_path: str | Path,
    report_path: str | Path,
    clean_table_path: str | Path,
    quarantine_path: str | Path,
    data: DataConfig,
    quality: QualityConfig,
    docs_dir: str | Path | None = None,
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
    report = run_suite(table, data, docs_dir)
    row_reasons = report.pop("row_reasons")
    bad_fraction = len(row_reasons) / len(table)
    report.update(
        {"source": source, "quarantined_rows": len(row_reasons), "quarantine": str(quarantine_path)}
    )
    write_quarantine(table, row_reasons, quarantine_path)

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
    clean = clean[~clean["row"].isin(list(dropped))].drop(columns=WORK_COLUMNS).reset_index(drop=True)
    report["quality"] = summarise(issues, dropped, class_balance(clean, data.class_names))
    if "converted" in table.columns:
        converted = table["converted"].fillna("")
        report["conversions"] = {
            "converted_images": int((converted != "").sum()),
            "to_grayscale": int(converted.str.contains("grayscale").sum()),
            "resized": int(converted.str.contains("resized").sum()),
        }
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
    """Write the bad rows with their line number, reasons and original fields.

    The fields keep the source's column names, so a fixed line can go back into
    the file. Fields beyond the header's go to `extra_fields`. A header alone is
    written when no row is bad.
    """
    columns = list(table.attrs.get("columns", ["emotion", "pixels", "Usage"]))
    bad = table[table["row"].isin(list(row_reasons))]
    records = []
    for entry in bad.itertuples(index=False):
        fields = _original_fields(entry, columns)
        record = {"line": int(entry.row), "reason": " | ".join(row_reasons[int(entry.row)])}
        if "file" in table.columns:
            record["file"] = entry.file
        record.update(zip(columns, fields[: len(columns)] + [""] * (len(columns) - len(fields)), strict=True))
        record["extra_fields"] = ",".join(fields[len(columns) :])
        records.append(record)
    header = ["line", "reason"] + (["file"] if "file" in table.columns else []) + columns + ["extra_fields"]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(records, columns=header).to_csv(path, index=False)
    return path


def _original_fields(entry, columns: list[str]) -> list[str]:
    # The fields as read when the reader kept them, else rebuilt from the decoded row.
    kept = json.loads(entry.original) if isinstance(entry.original, str) else None
    if kept is not None and (len(kept) != len(columns) or kept[columns.index("pixels")]):
        return [str(value) for value in kept]
    pixels = " ".join(map(str, np.frombuffer(entry.face, dtype=np.uint8))) if entry.face else ""
    values = {
        "emotion": "" if pd.isna(entry.emotion) else str(entry.emotion),
        "pixels": pixels,
        "Usage": getattr(entry, "usage", ""),
    }
    if kept is not None:
        values["emotion"] = kept[columns.index("emotion")]
    return [values.get(name, "") for name in columns]


def _row_reasons(results, table: pd.DataFrame) -> dict[int, list[str]]:
    # Maps each failing line number to its reasons: the reader's own words for the
    # columns it derived, else one reason per expectation the line failed.
    problems = dict(zip(table["row"].astype(int), table["problem"], strict=True))
    expected_fields = int(table.attrs.get("field_count", 3 if "usage" in table.columns else 2))
    misshapen = set(table.loc[table["field_count"] != expected_fields, "row"].astype(int))
    reasons: dict[int, list[str]] = {}
    for item in results:
        config = item.expectation_config
        column = config.kwargs.get("column")
        for entry in (item.result or {}).get("unexpected_index_list") or []:
            row = int(entry["row"])
            if row in misshapen:
                # A line with a wrong field count has its fields out of place, so only the
                # reader's reason applies.
                reason = problems[row]
            elif column in READER_COLUMNS and problems.get(row):
                reason = problems[row]
            else:
                value = entry.get(column)
                value_text = "null" if value is None or pd.isna(value) else _plain(value)
                reason = f"{column} {value_text}: expected {_expected(config.kwargs)}"
            if reason not in reasons.setdefault(row, []):
                reasons[row].append(reason)
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
