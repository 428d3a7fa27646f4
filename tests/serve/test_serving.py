"""REST round trip: `mlflow models serve` on a free loopback port returns class probabilities."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import mlflow
import numpy as np
import pytest

MLFLOW = str(Path(sys.executable).with_name("mlflow"))
START_TIMEOUT_S = 180


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"mlflow models serve exited with {server.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(1)
    pytest.fail(f"mlflow models serve did not answer {url}/ping within {START_TIMEOUT_S} s")


def test_champion_serves_probabilities_over_rest(champion, tmp_path):
    model = f"models:/{champion.config.register.model_name}@{champion.config.register.alias}"
    port = _free_port()
    env = {**os.environ, "MLFLOW_TRACKING_URI": champion.tracking_uri}
    # The server starts `uvicorn` from PATH, as in an activated environment.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    log = tmp_path / "serve.log"
    with log.open("w") as log_file:
        server = subprocess.Popen(
            [MLFLOW, "models", "serve", "-m", model, "--host", "127.0.0.1", "--port", str(port),
             "--env-manager", "local"],
            env=env, cwd=tmp_path, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, server, log)
        faces = champion.test_faces[:5, ..., np.newaxis]
        request = urllib.request.Request(
            f"{url}/invocations",
            data=json.dumps({"inputs": faces.tolist()}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read())
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)

    probabilities = np.array(answer["predictions"])
    assert probabilities.shape == (5, 7)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    mlflow.set_tracking_uri(champion.tracking_uri)
    local = mlflow.keras.load_model(model).predict(faces.astype("float32"), verbose=0)
    assert np.allclose(probabilities, local, atol=1e-5)
