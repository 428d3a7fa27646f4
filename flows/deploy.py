"""Serve the training flow on a schedule from this machine.

Run `python -m flows.deploy` from the project root with a Prefect server running
(`prefect server start`) and PREFECT_API_URL pointing at it. The process stays in
the foreground, polls for scheduled runs and executes them here; stop it with
Ctrl+C. For work pools and remote workers, use `training_flow.from_source(...)
.deploy(...)` instead.
"""

from __future__ import annotations

import argparse
import os

from flows.training import training_flow


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the fer-training flow on a cron schedule.")
    parser.add_argument("--cron", default="0 2 * * *", help="schedule in cron syntax (default: 02:00 daily)")
    parser.add_argument("--profile", default="quick", help="params.yaml profile for scheduled runs")
    parser.add_argument("--data", default=None, help="FER2013 CSV for scheduled runs (default: data.source)")
    args = parser.parse_args()

    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "fer")
    training_flow.serve(
        name=f"fer-training-{args.profile}",
        cron=args.cron,
        parameters={"profile": args.profile, "data": args.data},
        tags=["fer", args.profile],
        description="Validate, augment, train both candidates, evaluate and register the champion.",
    )


if __name__ == "__main__":
    main()
