"""Output paths of every stage below one folder. dvc.yaml names the same paths."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StagePaths:
    root: Path

    @property
    def table(self) -> Path:
        return self.root / "ingest" / "faces.parquet"

    @property
    def validation_report(self) -> Path:
        return self.root / "validate" / "report.json"

    @property
    def validated_table(self) -> Path:
        return self.root / "validate" / "faces.parquet"

    @property
    def data_docs(self) -> Path:
        return self.root / "validate" / "data_docs"

    @property
    def quarantine(self) -> Path:
        return self.root / "validate" / "quarantine.csv"

    @property
    def faces(self) -> Path:
        return self.root / "augment" / "faces.npz"

    def train_dir(self, candidate: str) -> Path:
        return self.root / "train" / candidate

    def evaluate_dir(self, candidate: str) -> Path:
        return self.root / "evaluate" / candidate

    @property
    def registration(self) -> Path:
        return self.root / "register" / "registration.json"

    @property
    def summary(self) -> Path:
        return self.root / "register" / "summary.md"
