"""Figures logged with each run. Matplotlib's Figure API needs no GUI backend."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure


def training_curves(history: Mapping[str, Sequence[float]], title: str) -> Figure:
    """Plot loss and accuracy per epoch for the training and validation splits."""
    figure = Figure(figsize=(10, 4), layout="constrained")
    for axis, metric in zip(figure.subplots(1, 2), ("loss", "accuracy"), strict=True):
        for key, label in ((metric, "train"), (f"val_{metric}", "validation")):
            if key in history:
                epochs = np.arange(1, len(history[key]) + 1)
                axis.plot(epochs, history[key], marker="o", label=label)
        axis.set_xlabel("epoch")
        axis.set_ylabel(metric)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(title)
    return figure


def augmentation_grid(
    originals: np.ndarray, augmented: np.ndarray, labels: Sequence[str], title: str
) -> Figure:
    """Show training faces (top row) above their augmented copies (bottom row)."""
    columns = len(originals)
    figure = Figure(figsize=(1.4 * columns, 3.4), layout="constrained")
    axes = figure.subplots(2, columns, squeeze=False)
    for column in range(columns):
        for row, faces in enumerate((originals, augmented)):
            axis = axes[row][column]
            axis.imshow(faces[column], cmap="gray", vmin=0, vmax=255)
            axis.set_xticks([])
            axis.set_yticks([])
        axes[0][column].set_title(labels[column], fontsize=8)
    axes[0][0].set_ylabel("original")
    axes[1][0].set_ylabel("augmented")
    figure.suptitle(title)
    return figure


def confusion_matrix_figure(matrix: np.ndarray, class_names: Sequence[str], title: str) -> Figure:
    """Plot a confusion matrix normalised by true class, with the raw count under each fraction."""
    totals = matrix.sum(axis=1, keepdims=True)
    normalised = np.divide(matrix, totals, out=np.zeros_like(matrix, dtype=float), where=totals > 0)
    figure = Figure(figsize=(7, 6), layout="constrained")
    axis = figure.subplots()
    image = axis.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
    figure.colorbar(image, ax=axis, label="fraction of true class")
    ticks = np.arange(len(class_names))
    axis.set_xticks(ticks, class_names, rotation=45, ha="right")
    axis.set_yticks(ticks, class_names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    for true_index in range(len(class_names)):
        for predicted_index in range(len(class_names)):
            value = normalised[true_index, predicted_index]
            axis.text(
                predicted_index,
                true_index,
                f"{value:.2f}\n({matrix[true_index, predicted_index]})",
                ha="center",
                va="center",
                color="white" if value > 0.5 else "black",
                fontsize=8,
            )
    axis.set_title(title)
    return figure


def misclassified_grid(
    faces: np.ndarray,
    true_names: Sequence[str],
    predicted_names: Sequence[str],
    confidences: Sequence[float],
    title: str,
    columns: int = 8,
) -> Figure:
    """Show misclassified faces, each titled with its true and predicted label."""
    rows = max(1, -(-len(faces) // columns))
    figure = Figure(figsize=(1.5 * columns, 1.8 * rows + 0.5), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.set_xticks([])
        axis.set_yticks([])
        if index >= len(faces):
            axis.set_axis_off()
            continue
        axis.imshow(faces[index], cmap="gray", vmin=0, vmax=255)
        axis.set_title(
            f"true {true_names[index]}\npred {predicted_names[index]} {confidences[index]:.0%}", fontsize=7
        )
    figure.suptitle(title)
    return figure
