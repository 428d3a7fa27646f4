"""Score a trained candidate on the validation and test splits and log the results."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from fer.config import Config
from fer.faces import load_faces
from fer.plots import confusion_matrix_figure, misclassified_grid
from fer.tracking import use_experiment

logger = logging.getLogger(__name__)

EVALUATED_SPLITS = ("validation", "test")
# Misclassified test faces in the grid, the most confident mistakes first.
MISCLASSIFIED_SHOWN = 32


def score(labels: np.ndarray, predicted: np.ndarray, num_classes: int) -> dict[str, float]:
    """Return accuracy and macro-F1 over all classes (absent classes count as F1 0)."""
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        "macro_f1": float(
            f1_score(labels, predicted, labels=list(range(num_classes)), average="macro", zero_division=0)
        ),
    }


def predict_probabilities(model, faces: np.ndarray, batch_size: int, flip_tta: bool) -> np.ndarray:
    """Return class probabilities; with `flip_tta`, the mean over each face and its mirror image."""
    faces = faces.astype(np.float32)
    probabilities = model.predict(faces, batch_size=batch_size, verbose=0)
    if flip_tta:
        probabilities = (
            probabilities + model.predict(faces[:, :, ::-1], batch_size=batch_size, verbose=0)
        ) / 2
    return probabilities


def per_class_table(labels: np.ndarray, predicted: np.ndarray, class_names: tuple[str, ...]) -> list[dict]:
    """Return precision, recall, F1 and support of every class."""
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=list(range(len(class_names))), zero_division=0
    )
    return [
        {"class": name, "precision": float(p), "recall": float(r), "f1": float(f), "support": int(n)}
        for name, p, r, f, n in zip(class_names, precision, recall, f1, support, strict=True)
    ]


def misclassified(faces: np.ndarray, labels: np.ndarray, probabilities: np.ndarray, class_names, title: str):
    """Plot the misclassified faces whose wrong prediction was the most confident."""
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    worst = wrong[np.argsort(-confidence[wrong], kind="stable")][:MISCLASSIFIED_SHOWN]
    return misclassified_grid(
        faces[worst],
        [class_names[label] for label in labels[worst]],
        [class_names[label] for label in predicted[worst]],
        confidence[worst].tolist(),
        title,
    )


def evaluate(faces_path: str | Path, run_id: str, config: Config, output_dir: str | Path) -> dict[str, float]:
    """Evaluate the model of MLflow run `run_id` and log metrics under the same names for every run.

    Logs `validation_accuracy`, `validation_macro_f1`, `test_accuracy` and
    `test_macro_f1`, plus the test split's confusion matrix and per-class
    precision, recall and F1 (also as `test_f1_<class>` metrics), to the run. Also
    writes the metrics to `metrics.json` in `output_dir` and returns them.
    """
    use_experiment(config.tracking)
    run = mlflow.get_run(run_id)
    model_uri = run.data.tags["model_uri"]
    model = mlflow.keras.load_model(model_uri)
    face_set = load_faces(faces_path)
    num_classes = len(face_set.class_names)

    metrics: dict[str, float] = {}
    for split in EVALUATED_SPLITS:
        faces, labels = face_set.split(split)
        probabilities = predict_probabilities(
            model, faces, config.evaluate.batch_size, config.evaluate.flip_tta
        )
        predicted = probabilities.argmax(axis=1)
        for name, value in score(labels, predicted, num_classes).items():
            metrics[f"{split}_{name}"] = value
    # The loop ends on the test split.
    test_faces, test_labels, test_predicted = faces, labels, predicted
    matrix = confusion_matrix(test_labels, test_predicted, labels=list(range(num_classes)))
    test_name = face_set.split_label("test")
    figure = confusion_matrix_figure(matrix, face_set.class_names, f"{run.info.run_name}: {test_name}")
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    figure.savefig(output_dir / "confusion_matrix.png", dpi=100)
    mistakes = misclassified(
        test_faces,
        test_labels,
        probabilities,
        face_set.class_names,
        f"{run.info.run_name}: misclassified {test_name} faces, most confident first",
    )
    mistakes.savefig(output_dir / "misclassified.png", dpi=100)
    per_class = per_class_table(test_labels, test_predicted, face_set.class_names)
    (output_dir / "per_class.json").write_text(json.dumps(per_class, indent=2) + "\n", encoding="utf-8")
    with mlflow.start_run(run_id=run_id):
        mlflow.log_metrics(metrics)
        mlflow.log_metrics({f"test_f1_{row['class']}": row["f1"] for row in per_class})
        mlflow.log_table(pd.DataFrame(per_class), "evaluation/per_class_test.json")
        mlflow.log_param("flip_tta", config.evaluate.flip_tta)
        mlflow.set_tags({"test_split": test_name, "validation_split": face_set.split_label("validation")})
        mlflow.log_artifact(str(output_dir / "confusion_matrix.png"), "plots")
        mlflow.log_artifact(str(output_dir / "misclassified.png"), "plots")

    report: dict[str, Any] = {"run_id": run_id, "test_split": test_name, **metrics}
    (output_dir / "metrics.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    logger.info(
        "%s: %s accuracy %.4f, macro-F1 %.4f",
        run.info.run_name,
        test_name,
        metrics["test_accuracy"],
        metrics["test_macro_f1"],
    )
    return metrics
