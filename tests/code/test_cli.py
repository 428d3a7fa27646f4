"""The CLI turns bad input into one line on stderr and a non-zero exit."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import rows_of_every_split

FER = str(Path(sys.executable).parent / "fer")


def _fer(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([FER, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_missing_data_file(tmp_path, params_file):
    result = _fer("ingest", "--data", "absent.csv", "--params", str(params_file), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: absent.csv: data file not found"
    assert "Traceback" not in result.stderr


def test_validation_error_names_line(tmp_path, params_file, sample_table):
    rows = rows_of_every_split(sample_table, 4)
    rows.loc[3, "emotion"] = 12
    source = tmp_path / "bad.csv"
    rows.to_csv(source, index=False)
    assert _fer("ingest", "--data", str(source), "--params", str(params_file), cwd=tmp_path).returncode == 0
    result = _fer("validate", "--params", str(params_file), cwd=tmp_path)
    assert result.returncode == 1
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1
    assert "expect_column_values_to_be_in_set(emotion) failed on line(s) 5 (values: 12;" in error_lines[0]
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback(tmp_path, params_file):
    result = _fer("--debug", "ingest", "--data", "absent.csv", "--params", str(params_file), cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" in result.stderr


@pytest.mark.parametrize("profile", ["huge"])
def test_unknown_profile(tmp_path, params_file, profile):
    result = _fer("ingest", "--params", str(params_file), "--profile", profile, cwd=tmp_path)
    assert result.returncode == 1
    assert f"unknown profile '{profile}'" in result.stderr
