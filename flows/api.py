"""Give a whole flow run, training processes included, one Prefect API."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from prefect.logging.handlers import APILogWorker
from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

logger = logging.getLogger(__name__)


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
    server.start()
    logger.info("Started a local Prefect API at %s for this run", server.api_url)
    try:
        with temporary_settings({PREFECT_API_URL: server.api_url}):
            yield server.api_url
            # Send the last log records while the API still runs.
            APILogWorker.drain_all(timeout=10)
    finally:
        server.stop()
