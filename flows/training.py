"""Prefect flow: ingest, validate, augment, train candidates in parallel, evaluate, register.

Tasks are thin wrappers around `fer` functions and pass file paths and MLflow run
ids, never arrays or models. Each candidate trains in its own worker process,
because TensorFlow models built side by side in threads of one process interfere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger
from prefect.runtime import flow_run
from prefect.task_runners import ProcessPoolTaskRunner

from fer import augment as augment_stage
from fer import ingest as ingest_stage
from fer import validate as validate_stage
from fer.config import AugmentConfig, Config, DataConfig, QualityConfig, load_config
from fer.paths import StagePaths
from fer.report import summary_markdown
from fer.tracking import prepare_tracking
from fer.versioning import data_version as file_version

# NOTE: the stages write files under the output folder and MLflow runs, so Prefect's
# result cache would skip work whose files may have changed; DVC is the cache here.


@task(cache_policy=NO_CACHE)
def ingest(source: str, output: str, data: DataConfig) -> str:
    """Read the FER2013 CSV and assign splits."""
    return str(ingest_stage.ingest(source, output, data))


@task(cache_policy=NO_CACHE)
def validate(table: str, paths: StagePaths, data: DataConfig, quality: QualityConfig) -> str:
    """Run the Great Expectations suite, quarantine bad rows, apply the quality policies."""
    report = validate_stage.validate(
        table,
        paths.validation_report,
        paths.validated_table,
        paths.quarantine,
        data,
        quality,
        paths.data_docs,
    )
    create_link_artifact(
        link=Path(report["data_docs"]).resolve().as_uri(),
        link_text="Great Expectations Data Docs",
        key="fer-data-docs",
        description=f"Validation of {report['source']}: {report['rows']} rows, "
        f"{report['quarantined_rows']} quarantined",
    )
    return str(paths.validated_table)


@task(cache_policy=NO_CACHE)
def augment(table: str, output: str, augment_config: AugmentConfig, data: DataConfig) -> str:
    """Decode faces and add the configured augmented copies of the training split."""
    return str(augment_stage.augment(table, output, augment_config, data))


@task(cache_policy=NO_CACHE, task_run_name="train-{candidate}")
def train(
    faces: str,
    candidate: str,
    config: Config,
    output_dir: str,
    parallel_jobs: int,
    tags: dict[str, str],
    data_report: str,
) -> str:
    """Train one candidate in this worker process and return its MLflow run id."""
    from fer.train import train as train_candidate

    return train_candidate(
        faces, candidate, config, output_dir, parallel_jobs=parallel_jobs, tags=tags, data_report=data_report
    )


@task(cache_policy=NO_CACHE, task_run_name="evaluate-{candidate}")
def evaluate(faces: str, run_id: str, candidate: str, config: Config, output_dir: str) -> dict[str, float]:
    """Score one candidate on the validation and test splits."""
    from fer.evaluate import evaluate as evaluate_candidate

    return evaluate_candidate(faces, run_id, config, output_dir)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def register(
    run_ids: list[str], config: Config, data_version: str, flow_run_id: str, output: str
) -> dict[str, Any]:
    """Register the best candidate and move the alias to it."""
    from fer.register import register as register_best

    return register_best(run_ids, config, data_version=data_version, flow_run_id=flow_run_id, output=output)


@flow(name="fer-training", flow_run_name="fer-training-{profile}")
def training_flow(
    data: str | None = None,
    profile: str | None = None,
    params: str = "params.yaml",
    output_dir: str = "outputs",
) -> dict[str, Any]:
    """Train, compare and register FER2013 classifiers.

    data: FER2013 CSV to train on; None uses params.yaml's data.source, and when
    that is null too, the sample bundled with the package.
    profile: params.yaml profile (quick, full, ...); None uses the file's `profile`.
    """
    logger = get_run_logger()
    config = load_config(params, profile)
    source = Path(data) if data else config.data.source_path()
    paths = StagePaths(Path(output_dir))
    logger.info("Training on %s with profile %r", source, config.profile)

    table = ingest(str(source), str(paths.table), config.data)
    clean_table = validate(table, paths, config.data, config.quality)
    faces = augment(clean_table, str(paths.faces), config.augment, config.data)

    # Created here, before the fan-out, so the parallel runs never race to create
    # the SQLite database or the experiment.
    prepare_tracking(config.tracking)
    data_version = file_version(source)
    run_tags = {
        "data_version": data_version,
        "data_source": str(source),
        "prefect_flow_run_id": str(flow_run.id),
    }
    candidates = list(config.train.candidates)
    with ProcessPoolTaskRunner(max_workers=len(candidates)) as runner:
        trained = {
            name: runner.submit(
                train,
                {
                    "faces": faces,
                    "candidate": name,
                    "config": config,
                    "output_dir": str(paths.train_dir(name)),
                    "parallel_jobs": len(candidates),
                    "tags": run_tags,
                    "data_report": str(paths.validation_report),
                },
            )
            for name in candidates
        }
        run_ids = {name: future.result() for name, future in trained.items()}
        evaluated = {
            name: runner.submit(
                evaluate,
                {
                    "faces": faces,
                    "run_id": run_ids[name],
                    "candidate": name,
                    "config": config,
                    "output_dir": str(paths.evaluate_dir(name)),
                },
            )
            for name in candidates
        }
        test_metrics = {name: future.result() for name, future in evaluated.items()}
    logger.info("Test metrics: %s", test_metrics)

    decision = register(
        list(run_ids.values()), config, data_version, str(flow_run.id), str(paths.registration)
    )
    markdown = summary_markdown(
        decision, config.tracking.resolved_uri(), paths.validation_report, config.tracking.ui_url
    )
    paths.summary.write_text(markdown, encoding="utf-8")
    create_markdown_artifact(
        markdown=markdown,
        key="fer-training-summary",
        description="Candidates, their metrics and the champion",
    )
    return decision
