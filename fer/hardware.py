"""Pick the device, precision, batch size and thread counts for a training process."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

logger = logging.getLogger(__name__)

# On a GPU, batches this many times larger keep the device busy; the learning rate
# stays as configured.
GPU_BATCH_MULTIPLIER = 4


@dataclass(frozen=True)
class Runtime:
    device: str
    precision: str
    batch_multiplier: int
    threads: int | None


def configure_runtime(parallel_jobs: int = 1, threads: int | None = None) -> Runtime:
    """Configure TensorFlow for this process; call before building any model.

    With a GPU: mixed precision and larger batches. On a CPU: each of the
    `parallel_jobs` training processes gets an equal share of the cores, so
    trainings that run side by side do not oversubscribe them, unless `threads`
    sets this process's count.
    """
    import keras
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    # NOTE: this branch is untested on real hardware because the tests and the
    # measured runs so far had CPUs only.
    if gpus:
        for gpu in gpus:
            _try(tf.config.experimental.set_memory_growth, gpu, True)
        keras.mixed_precision.set_global_policy("mixed_float16")
        runtime = Runtime("gpu", "mixed_float16", GPU_BATCH_MULTIPLIER, None)
    else:
        # NOTE: TensorFlow fixes the thread count at start-up, so a training that
        # outlasts its neighbour keeps its share and leaves the freed cores idle.
        threads = threads or max(1, (os.cpu_count() or 1) // max(1, parallel_jobs))
        _try(tf.config.threading.set_intra_op_parallelism_threads, threads)
        _try(tf.config.threading.set_inter_op_parallelism_threads, min(2, threads))
        runtime = Runtime("cpu", "float32", 1, threads)
    logger.info("Runtime: %s", runtime)
    return runtime


def _try(setter, *args) -> None:
    # TensorFlow accepts these settings only before its runtime starts; a process
    # that already trained keeps what it has.
    try:
        setter(*args)
    except RuntimeError as error:
        logger.debug("Kept the existing TensorFlow setting: %s", error)
