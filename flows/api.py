"""Give a whole flow run, training processes included, one Prefect API."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from prefect.logging.handlers import APILogWorker
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
    get_current_settings,
    temporary_settings,
)

from fer.errors import FerError

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT_SECONDS = 120


@contextmanager
def shared_api() -> Iterator[str | None]:
    """Use the configured PREFECT_API_URL, or start one local API for the duration.

    Without this, Prefect's ephemeral mode starts a separate temporary server in
    every worker process, and the training task runs land in databases that
    vanish with those processes. The local API stores runs in Prefect's default
    database (under PREFECT_HOME), so `prefect server start` shows them later.
    """
    configured = get_current_settings().api.url
    if configured:
        yield configured
        return

    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    try:
        # The first start on a machine migrates Prefect's database, which takes
        # longer than Prefect's default wait on a slow CPU.
        server.start(
            timeout=max(STARTUP_TIMEOUT_SECONDS, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())
        )
    except RuntimeError as error:
        server.stop()
        raise FerError(
            f"the local Prefect API did not start ({error}); raise "
            f"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or run `prefect server start` "
            f"and set PREFECT_API_URL to its address"
        ) from error
    logger.info("Started a local Prefect API at %s for this run", server.api_url)
    try:
        with temporary_settings({PREFECT_API_URL: server.api_url}):
            yield server.api_url
            # Send the last log records while the API still runs.
            APILogWorker.drain_all(timeout=10)
    finally:
        server.stop()
