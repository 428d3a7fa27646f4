"""Identify the data version the way DVC does: the md5 of the file's bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path

CHUNK_BYTES = 1 << 20


def file_md5(path: str | Path) -> str:
    """Return the md5 of the file's content, the hash DVC 3 records for a file."""
    digest = hashlib.md5(usedforsecurity=False)
    with Path(path).open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def data_version(path: str | Path) -> str:
    """Return the md5 of a file, or for a folder the md5 of its sorted file list and file md5s."""
    path = Path(path)
    if path.is_file():
        return file_md5(path)
    digest = hashlib.md5(usedforsecurity=False)
    for item in sorted(child for child in path.rglob("*") if child.is_file()):
        digest.update(f"{item.relative_to(path).as_posix()} {file_md5(item)}\n".encode())
    return digest.hexdigest() + ".dir"
