"""Cache parsed CSVs by the md5 of the file's content.

A second load of unchanged data reads one uncompressed .npz instead of parsing
the CSV again. The key is the same md5 DVC records for the file. Like DVC's
state database, a small index records the md5 of each path with its size,
modification time and inode, so an unchanged file is not hashed again. A change
to any of those three makes the file hashed anew.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

from fer.csvparse import parse_csv
from fer.rawfaces import RawFaces
from fer.versioning import file_md5

logger = logging.getLogger(__name__)

# Bump when the parser's output changes, so old entries are not read.
CACHE_FORMAT = 1
STAT_INDEX = "md5-index.json"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fer-mlops"


def content_md5(path: Path, cache_dir: Path) -> str:
    """Return the md5 of `path`, reusing the indexed value while size, mtime and inode match."""
    index_path = cache_dir / STAT_INDEX
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        index = {}
    stat = path.stat()
    signature = [stat.st_size, stat.st_mtime_ns, stat.st_ino]
    key = str(path.resolve())
    entry = index.get(key)
    if entry and entry.get("stat") == signature:
        return entry["md5"]
    digest = file_md5(path)
    index[key] = {"stat": signature, "md5": digest}
    _write_atomic(index_path, json.dumps(index, indent=1).encode("utf-8"))
    return digest


def load_csv(path: str | Path, cache_dir: str | Path | None = None) -> RawFaces:
    """Parse the CSV at `path`, or read the cached result for the same content."""
    path = Path(path)
    if not path.is_file():
        return parse_csv(path)  # raises the usual one-line error
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        entry = cache_dir / f"{content_md5(path, cache_dir)}-v{CACHE_FORMAT}.npz"
    except OSError as error:
        logger.warning("Face cache at %s is not usable (%s); parsing %s without it", cache_dir, error, path)
        return parse_csv(path)
    if entry.is_file():
        try:
            raw = _read(entry)
            logger.info("Read %d faces of %s from the cache %s", len(raw.rows), path, entry)
            return raw
        except (OSError, ValueError, KeyError) as error:
            logger.warning("Cache entry %s is unreadable (%s); parsing %s again", entry, error, path)
    raw = parse_csv(path)
    try:
        _write(entry, raw)
    except OSError as error:
        logger.warning("Could not write the face cache %s: %s", entry, error)
    return raw


def _write(entry: Path, raw: RawFaces) -> None:
    arrays = {
        "rows": raw.rows,
        "faces": raw.faces,
        "pixel_count": raw.pixel_count,
        "pixel_min": raw.pixel_min,
        "pixel_max": raw.pixel_max,
        "field_count": raw.field_count,
        "emotion": np.array(raw.emotion, dtype=str),
        "problem": np.array(raw.problem, dtype=str),
        "meta": np.array(
            json.dumps({"columns": raw.columns, "text": {str(k): v for k, v in raw.text.items()}})
        ),
    }
    if raw.usage is not None:
        arrays["usage"] = np.array(raw.usage, dtype=str)
    handle = tempfile.NamedTemporaryFile(dir=entry.parent, suffix=".npz.tmp", delete=False)
    with handle:
        np.savez(handle, **arrays)
    os.replace(handle.name, entry)


def _read(entry: Path) -> RawFaces:
    with np.load(entry, allow_pickle=False) as stored:
        meta = json.loads(str(stored["meta"]))
        return RawFaces(
            columns=meta["columns"],
            rows=stored["rows"],
            emotion=stored["emotion"].tolist(),
            usage=stored["usage"].tolist() if "usage" in stored.files else None,
            faces=stored["faces"],
            pixel_count=stored["pixel_count"],
            pixel_min=stored["pixel_min"],
            pixel_max=stored["pixel_max"],
            field_count=stored["field_count"],
            problem=stored["problem"].tolist(),
            text={int(k): v for k, v in meta["text"].items()},
        )


def _write_atomic(path: Path, content: bytes) -> None:
    handle = tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False)
    with handle:
        handle.write(content)
    os.replace(handle.name, path)
