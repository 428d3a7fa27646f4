"""Time loading FER2013 into a uint8 array: fer's parser and cache against two baselines.

Baselines, run in the same invocation on the same file:
  loop    the csv module and int() per grey level, the way the original notebook did it
  pandas  pandas.read_csv, then np.fromstring on each row's pixel string

Each method runs in its own child process, so its peak memory (max RSS) is its
own. The parser's Numba kernel is compiled once, and cached, before timing.

    python benchmarks/load_faces.py [--data ../shared/data/fer2013.csv.gz] [--plain]

--plain also times an unpacked copy of the file, written to a temporary folder.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
method, path, cache = sys.argv[1], sys.argv[2], sys.argv[3]
import numpy as np

def loop(path):
    import csv, gzip
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    faces = []
    with opener(path, "rt", newline="") as handle:
        reader = csv.reader(handle)
        header = [name.strip() for name in next(reader)]
        column = header.index("pixels")
        for fields in reader:
            faces.append([int(value) for value in fields[column].split(" ")])
    return np.array(faces, dtype=np.uint8).reshape(-1, 48, 48)

def pandas(path):
    table = pd.read_csv(path)
    rows = [np.fromstring(text, dtype=np.uint8, sep=" ") for text in table["pixels"]]
    return np.stack(rows).reshape(-1, 48, 48)

def parser(path):
    return parse_csv(path).faces

def cached(path):
    return load_csv(path, cache).faces

import pandas as pd
from fer.csvparse import parse_csv
from fer.facecache import load_csv
if method == "parser":
    # Compile the kernel (or load it from Numba's cache) on a one-line file first.
    import pathlib, tempfile
    tiny = pathlib.Path(tempfile.mkdtemp()) / "tiny.csv"
    tiny.write_text("emotion,pixels\n0," + " ".join(["1"] * 2304) + "\n")
    parse_csv(tiny)
if method == "fill":
    load_csv(path, cache)
    print(json.dumps({}))
    sys.exit(0)
function = {"loop": loop, "pandas": pandas, "parser": parser, "cached": cached}[method]
start = time.perf_counter()
faces = function(path)
seconds = time.perf_counter() - start
print(json.dumps({
    "seconds": seconds,
    "faces": int(faces.shape[0]),
    "checksum": int(faces[:: max(1, len(faces) // 97)].astype(np.int64).sum()),
    "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def run(method: str, path: Path, cache: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, method, str(path), str(cache)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{method} failed on {path}:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def best_of(method: str, path: Path, cache: Path, repeat: int) -> dict:
    results = [run(method, path, cache) for _ in range(repeat)]
    best = min(results, key=lambda result: result["seconds"])
    best["max_rss_mb"] = max(result["max_rss_mb"] for result in results)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path("../shared/data/fer2013.csv.gz"))
    parser.add_argument("--plain", action="store_true", help="also time an unpacked copy of the file")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the fer methods; the best counts")
    args = parser.parse_args()
    if not args.data.is_file():
        raise SystemExit(f"{args.data}: file not found; pass --data with the FER2013 CSV")

    with tempfile.TemporaryDirectory(prefix="fer-bench-") as folder:
        files = [args.data]
        if args.plain:
            plain = Path(folder) / "fer2013.csv"
            with gzip.open(args.data) as source, plain.open("wb") as target:
                shutil.copyfileobj(source, target)
            files.append(plain)
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        for path in files:
            cache = Path(folder) / f"cache-{path.name}"
            results = {
                "loop": run("loop", path, cache),
                "pandas": run("pandas", path, cache),
                "parser": best_of("parser", path, cache, args.repeat),
            }
            run("fill", path, cache)
            results["cached"] = best_of("cached", path, cache, args.repeat)
            checksums = {result["checksum"] for result in results.values()}
            assert len(checksums) == 1, f"methods disagree on the faces: {results}"
            print(f"\n{path} ({path.stat().st_size / 1e6:.0f} MB, {results['loop']['faces']} faces)")
            print(f"{'method':8} {'seconds':>8} {'vs loop':>8} {'vs pandas':>10} {'max RSS MB':>11}")
            for name, result in results.items():
                versus_loop = results["loop"]["seconds"] / result["seconds"]
                versus_pandas = results["pandas"]["seconds"] / result["seconds"]
                print(
                    f"{name:8} {result['seconds']:8.2f} {versus_loop:7.1f}x "
                    f"{versus_pandas:9.1f}x {result['max_rss_mb']:11.0f}"
                )


if __name__ == "__main__":
    main()
