"""Prefect flows and deployments around the stage functions in `fer`."""
