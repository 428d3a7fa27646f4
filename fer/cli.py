"""The `fer` command: one subcommand per stage, plus `run` for the whole Prefect flow.

DVC stages call these subcommands, and the Prefect flow calls the same `fer`
functions, so each stage's logic exists once.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from fer.config import Config, load_config
from fer.errors import FerError
from fer.paths import StagePaths

app = typer.Typer(
    help="Train, compare and register FER2013 facial expression classifiers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
logger = logging.getLogger("fer.cli")

ParamsOption = Annotated[Path, typer.Option("--params", help="Parameters file (YAML).")]
ProfileOption = Annotated[
    str | None, typer.Option("--profile", help="Profile in the parameters file; default: its `profile` key.")
]
OutputOption = Annotated[Path, typer.Option("--out", help="Folder the stages write their files to.")]
DataOption = Annotated[
    Path | None,
    typer.Option(
        "--data",
        help="FER2013 CSV (plain or gzip); default: data.source in the parameters file, "
        "or the bundled 2,000-face sample when that is null.",
    ),
]
ModelOption = Annotated[str, typer.Option("--model", help="Candidate name from the `models` section.")]


class _State:
    debug = False


@app.callback()
def configure(
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
) -> None:
    _State.debug = debug
    _configure_logging(logging.DEBUG if debug else logging.INFO)


@app.command()
def ingest(
    data: DataOption = None,
    params: ParamsOption = Path("params.yaml"),
    profile: ProfileOption = None,
    out: OutputOption = Path("outputs"),
) -> None:
    """Read a FER2013 CSV or image folder, assign train/validation/test splits and store the table."""
    from fer.ingest import ingest as ingest_stage

    config = load_config(params, profile)
    ingest_stage(_source(config, data), StagePaths(out).table, config.data)


@app.command()
def validate(
    params: ParamsOption = Path("params.yaml"),
    profile: ProfileOption = None,
    out: OutputOption = Path("outputs"),
) -> None:
    """Run the Great Expectations suite, quarantine bad rows and keep the good ones."""
    from fer.validate import validate as validate_stage

    config = load_config(params, profile)
    paths = StagePaths(out)
    validate_stage(
        paths.table,
        paths.validation_report,
        paths.validated_table,
        paths.quarantine,
        config.data,
        config.quality,
        paths.data_docs,
    )


@app.command()
def augment(
    params: ParamsOption = Path("params.yaml"),
    profile: ProfileOption = None,
    out: OutputOption = Path("outputs"),
) -> None:
    """Decode the validated faces and add augmented copies of the training split."""
    from fer.augment import augment as augment_stage

    config = load_config(params, profile)
    paths = StagePaths(out)
    augment_stage(paths.validated_table, paths.faces, config.augment, config.data)


@app.command()
def train(
    model: ModelOption,
    data: DataOption = None,
    params: ParamsOption = Path("params.yaml"),
    profile: ProfileOption = None,
    out: OutputOption = Path("outputs"),
) -> None:
    """Train one candidate on the augmented faces as one MLflow run."""
    from fer.tracking import prepare_tracking
    from fer.train import train as train_stage
    from fer.versioning import data_version as file_version

    config = load_config(params, profile)
    _check_candidate(config, model)
    prepare_tracking(config.tracking)
    source = _source(config, data)
    tags = {"data_version": file_version(source), "data_source": str(source)}
    paths = StagePaths(out)
    train_stage(
        paths.faces, model, config, paths.train_dir(model), tags=tags, data_report=paths.validation_report
    )


@app.command()
def evaluate(
    model: ModelOption,
    params: ParamsOption = Path("params.yaml"),
    profile: ProfileOption = None,
    out: OutputOption = Path("outputs"),
) -> None:
    """Score a trained candidate on the validation and test splits and log the metrics."""
    from fer.evaluate import evaluate as evaluate_stage

    config = load_config(params, profile)
    _check_candidate(config, model)
    paths = StagePaths(out)
    evaluate_stage(paths.faces, _run_id(paths, model), config, paths.evaluate_dir(model))


@app.command()
def register(
    data: DataOption = None,
    params: ParamsOption = Path("params.yaml"),
    profile: ProfileOption = None,
    out: OutputOption = Path("outputs"),
) -> None:
    """Register the best evaluated candidate and point the alias at it."""
    from fer.register import register as register_stage
    from fer.report import summary_markdown
    from fer.versioning import data_version as file_version

    config = load_config(params, profile)
    paths = StagePaths(out)
    run_ids = [_run_id(paths, name) for name in config.train.candidates]
    decision = register_stage(
        run_ids, config, data_version=file_version(_source(config, data)), output=paths.registration
    )
    markdown = summary_markdown(
        decision, config.tracking.resolved_uri(), paths.validation_report, config.tracking.ui_url
    )
    paths.summary.write_text(markdown, encoding="utf-8")
    typer.echo(markdown)


@app.command()
def run(
    data: DataOption = None,
    params: ParamsOption = Path("params.yaml"),
    profile: ProfileOption = None,
    out: OutputOption = Path("outputs"),
) -> None:
    """Run the whole Prefect flow: every stage, with the candidates trained in parallel."""
    # Route the library's log records through Prefect's handlers, in this process
    # and in the training processes, which inherit the environment.
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "fer")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from flows.api import shared_api
    from flows.training import training_flow

    # Loading here reports a bad parameters file before Prefect starts, and names
    # the flow run after the profile actually used.
    config = load_config(params, profile)
    with shared_api():
        training_flow(
            data=str(data) if data else None,
            profile=config.profile,
            params=str(params),
            output_dir=str(out),
        )
    typer.echo(StagePaths(out).summary.read_text(encoding="utf-8"))


@app.command()
def predict(
    images: Annotated[list[Path], typer.Argument(help="Image files or folders (searched recursively).")],
    model_uri: Annotated[
        str | None,
        typer.Option(
            "--model-uri", help="Any MLflow model URI; default: predict.model_uri, else the champion."
        ),
    ] = None,
    version: Annotated[int | None, typer.Option("--version", help="Version of the registered model.")] = None,
    alias: Annotated[str | None, typer.Option("--alias", help="Alias of the registered model.")] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="json (one object per image) or table.")
    ] = "json",
    annotate: Annotated[
        Path | None, typer.Option("--annotate", help="Folder for copies of the images with boxes and labels.")
    ] = None,
    max_pixels: Annotated[
        int | None, typer.Option("--max-pixels", help="Refuse larger images; default: predict.max_pixels.")
    ] = None,
    params: ParamsOption = Path("params.yaml"),
    profile: ProfileOption = None,
) -> None:
    """Classify the facial expression of every face in the images.

    A 48x48 image is taken as a face crop. In other images the MTCNN detector finds the faces.

    A file that cannot be read gets a one-line error, the others go on, and the exit status is 1.
    """
    from dataclasses import replace

    from fer.predict import load_classifier
    from fer.predict import model_uri as default_model_uri
    from fer.predict import predict as predict_images
    from fer.rawfaces import PIXELS_PER_FACE

    if output_format not in ("json", "table"):
        raise FerError(f"--format is {output_format!r}; use json or table")
    config = load_config(params, profile)
    if max_pixels is not None:
        if max_pixels < PIXELS_PER_FACE:
            raise FerError(f"--max-pixels is {max_pixels}; it must be at least {PIXELS_PER_FACE} (48x48)")
        config = replace(config, predict=replace(config.predict, max_pixels=max_pixels))
    uri = model_uri or default_model_uri(config, version, alias)
    results = predict_images(images, config, load_classifier(uri, config), annotate)
    if output_format == "json":
        typer.echo(json.dumps([result.as_dict() for result in results], indent=2))
    else:
        _print_predictions(results)
    if any(result.error for result in results):
        sys.exit(1)


models_app = typer.Typer(help="List model versions and move their aliases by hand.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("list")
def models_list(params: ParamsOption = Path("params.yaml"), profile: ProfileOption = None) -> None:
    """List the registered versions, newest first, with aliases and test metrics."""
    from rich.console import Console
    from rich.table import Table

    from fer.registry import list_versions
    from fer.tracking import use_tracking_store

    config = load_config(params, profile)
    use_tracking_store(config.tracking)
    rows = list_versions(config.register.model_name)
    table = Table(title=f"{config.register.model_name} in {config.tracking.resolved_uri()}")
    for column in (
        "version",
        "aliases",
        "candidate",
        "test_accuracy",
        "test_macro_f1",
        "data_version",
        "run_id",
    ):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            *(", ".join(value) if isinstance(value, list) else str(value) for value in row.values())
        )
    Console().print(table)


@models_app.command("promote")
def models_promote(
    version: Annotated[int, typer.Argument(help="Model version the alias should point at.")],
    alias: Annotated[
        str | None, typer.Option("--alias", help="Alias to move; default: register.alias.")
    ] = None,
    params: ParamsOption = Path("params.yaml"),
    profile: ProfileOption = None,
) -> None:
    """Point an alias (default: the champion alias) at a version: a promotion or a rollback."""
    from fer.registry import point_alias
    from fer.tracking import use_tracking_store

    config = load_config(params, profile)
    use_tracking_store(config.tracking)
    point_alias(config.register.model_name, alias or config.register.alias, version)
    typer.echo(f"{config.register.model_name}@{alias or config.register.alias} -> version {version}")


def main() -> None:
    """Console entry point: turn expected errors into one line on stderr and exit 1."""
    # Keep TensorFlow's C++ start-up chatter (CUDA probing, CPU flags) off the console;
    # its real errors reach Python as exceptions.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        app()
    except FerError as error:
        if _State.debug:
            raise
        typer.echo(f"error: {error}", err=True)
        sys.exit(1)


def _source(config: Config, data: Path | None) -> Path:
    return data if data is not None else config.data.source_path()


def _check_candidate(config: Config, model: str) -> None:
    if model not in config.models:
        raise FerError(f"unknown model {model!r}; defined in params: {', '.join(config.models)}")


def _run_id(paths: StagePaths, candidate: str) -> str:
    record = paths.train_dir(candidate) / "run.json"
    if not record.is_file():
        raise FerError(f"{record} not found; run `fer train --model {candidate}` first")
    return json.loads(record.read_text(encoding="utf-8"))["run_id"]


def _print_predictions(results) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table()
    for column in ("image", "box (x, y, w, h)", "label", "probability", "error"):
        # Fold long paths onto more lines instead of cutting them in a narrow console.
        table.add_column(column, overflow="fold")
    for result in results:
        if result.error or not result.faces:
            table.add_row(result.image, "", "no face" if not result.error else "", "", result.error or "")
        for face in result.faces:
            box = ", ".join(str(value) for value in face.box.as_list())
            table.add_row(result.image, box, face.label, f"{face.probabilities[face.label]:.3f}", "")
    Console().print(table)


def _configure_logging(level: int) -> None:
    from rich.console import Console
    from rich.logging import RichHandler

    # Logs go to stderr, so stdout carries only results (JSON, tables, summaries).
    # A terminal gets Rich's columns; a pipe or file gets one plain line per record.
    if sys.stderr.isatty():
        handler: logging.Handler = RichHandler(
            console=Console(stderr=True), show_path=False, rich_tracebacks=True
        )
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s", datefmt="[%X]"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # Third-party libraries log a lot at INFO; keep their warnings only.
    for noisy in ("great_expectations", "alembic", "mlflow", "absl", "urllib3", "httpx"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


if __name__ == "__main__":
    main()
