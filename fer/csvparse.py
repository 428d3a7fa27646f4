"""Parse a FER2013 CSV into a uint8 face array in one compiled pass over the bytes.

A Numba kernel walks each line once: it finds the fields, decodes the grey levels
straight into the face array and records the byte ranges of the short fields. A
gzip file is unpacked by ISA-L in a background thread while the kernel parses the
blocks already unpacked. A line the kernel does not accept (quotes, a wrong field
count, a malformed pixel string) is parsed again in Python to find the reason, so
validation can quarantine it while the other rows go on.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numba
import numpy as np

from fer.errors import DataError
from fer.rawfaces import IMAGE_SIZE, PIXELS_PER_FACE, RawFaces

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("emotion", "pixels")
BLOCK_BYTES = 16 << 20
PARSE_THREADS = 2
_NEWLINE, _CR, _COMMA, _SPACE, _QUOTE, _ZERO = 10, 13, 44, 32, 34, 48
PIXEL_TEXT = re.compile(r"\d+(?: \d+)*", re.ASCII)
# Line status codes of the kernel.
_GOOD, _CHECK, _BLANK = 0, 1, 2


@numba.njit(nogil=True, cache=True)
def _scan_block(block, column_count, pixel_column, emotion_column, usage_column, faces, spans, status):
    """Parse the lines of `block`, which ends with a newline; return the line count.

    For line i: spans[i] = line start, line end, emotion start, emotion end, Usage
    start, Usage end; status[i] = _GOOD, _CHECK or _BLANK. A good line's grey levels
    go to faces[i]. Returns -1 when the block holds more lines than the arrays do.
    """
    size = block.shape[0] - 2  # two bytes of padding follow the last newline
    capacity = faces.shape[0]
    line = 0
    i = 0
    while i < size:
        if line == capacity:
            return -1
        row = faces[line]
        spans[line, 0] = i
        column = 0
        field_start = i
        ok = True
        count = 0
        c = block[i]
        while c != 10:
            if column == pixel_column and ok and i == field_start:
                # Grey levels: one to three digits each, single spaces between them.
                # The next three bytes are decoded at once, and a value ends at its first non-digit.
                while True:
                    d0 = np.int64(block[i]) - 48
                    d1 = np.int64(block[i + 1]) - 48
                    d2 = np.int64(block[i + 2]) - 48
                    has1 = np.int64((d1 >= 0) & (d1 < 10))
                    has2 = has1 & np.int64((d2 >= 0) & (d2 < 10))
                    value = d0
                    value = value * (1 + 9 * has1) + d1 * has1
                    value = value * (1 + 9 * has2) + d2 * has2
                    i += 1 + has1 + has2
                    c = block[i]
                    if d0 < 0 or d0 >= 10 or 48 <= c <= 57 or value > 255 or count == 2304:
                        ok = False
                        break
                    row[count] = value
                    count += 1
                    if c != 32:
                        if c != 44 and c != 13 and c != 10:
                            ok = False
                        break
                    i += 1
                continue
            if c == 44:
                if column == emotion_column:
                    spans[line, 2] = field_start
                    spans[line, 3] = i
                elif column == usage_column:
                    spans[line, 4] = field_start
                    spans[line, 5] = i
                column += 1
                field_start = i + 1
            elif c == 34:
                ok = False
            i += 1
            c = block[i]
        stop = i
        if stop > spans[line, 0] and block[stop - 1] == 13:
            stop -= 1
        spans[line, 1] = stop
        if column == emotion_column:
            spans[line, 2] = field_start
            spans[line, 3] = stop
        elif column == usage_column:
            spans[line, 4] = field_start
            spans[line, 5] = stop
        if stop == spans[line, 0]:
            status[line] = 2
        elif ok and column + 1 == column_count and count == 2304:
            status[line] = 0
        else:
            status[line] = 1
        line += 1
        i += 1
    return line


def read_header(first_block: bytes, path: Path) -> tuple[list[str], int]:
    """Return the column names and the offset where the first data line starts."""
    if first_block.startswith(b"\xef\xbb\xbf"):
        first_block = first_block[3:]
        skipped = 3
    else:
        skipped = 0
    if not first_block.strip():
        raise DataError(f"{path}: file is empty; expected a CSV header 'emotion,pixels[,Usage]'")
    if b"\x00" in first_block[:65536]:
        raise DataError(f"{path}: not a text file; expected a CSV with the header 'emotion,pixels[,Usage]'")
    end = first_block.find(b"\n")
    end = len(first_block) if end < 0 else end
    try:
        header = first_block[:end].decode("utf-8").rstrip("\r")
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not a text file; the header is not UTF-8 ({error})") from error
    columns = [name.strip().strip('"').strip() for name in header.split(",")]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(columns)}")
    return columns, skipped + end + 1


def iter_blocks(path: Path):
    """Yield the file's bytes in blocks that end at a line end; gzip is unpacked by content."""
    with path.open("rb") as handle:
        gzipped = handle.read(2) == b"\x1f\x8b"
    if gzipped:
        from isal import igzip_threaded

        opener = igzip_threaded.open(path, "rb", threads=1)
    else:
        opener = path.open("rb")
    rest = b""
    try:
        with opener as handle:
            while chunk := handle.read(BLOCK_BYTES):
                chunk = rest + chunk
                cut = chunk.rfind(b"\n") + 1
                if cut == 0:
                    rest = chunk
                    continue
                rest = chunk[cut:]
                yield chunk[:cut]
    except (OSError, EOFError, ValueError) as error:
        raise DataError(f"{path}: the gzip data is damaged ({error}); download the file again") from error
    if rest:
        yield rest + b"\n"


def parse_csv(path: str | Path) -> RawFaces:
    """Parse the CSV at `path`; raise DataError for a file that cannot be a FER2013 CSV.

    Two threads parse blocks while the file is read (and unpacked) in another.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: data file not found")
    columns: list[str] = []
    futures = []
    with ThreadPoolExecutor(max_workers=PARSE_THREADS) as pool:
        for block in iter_blocks(path):
            offset = 0
            if not columns:
                if b"\n" not in block[:-1] and b"\r" in block:
                    block = block.replace(b"\r", b"\n")  # old Mac line endings
                columns, offset = read_header(block, path)
            futures.append(pool.submit(_parse_block, block, offset, columns))
        parts = [future.result() for future in futures]
    if not columns:
        raise DataError(f"{path}: file is empty; expected a CSV header 'emotion,pixels[,Usage]'")
    parsed = _join(parts, columns)
    if len(parsed.rows) == 0:
        raise DataError(f"{path}: header but no rows; add faces as lines of {','.join(columns)}")
    return parsed


def _parse_block(block: bytes, offset: int, columns: list[str]) -> dict:
    # Two bytes of padding let the kernel look ahead without a bounds check.
    view = np.frombuffer(block + b"\n\n", dtype=np.uint8)[offset:]
    usage_column = columns.index("Usage") if "Usage" in columns else -1
    # A good line has at least 4,607 bytes, so this capacity fits a block of good lines.
    # A block with more lines than that is counted and parsed again.
    capacity = len(view) // (2 * PIXELS_PER_FACE) + 64
    while True:
        faces = np.empty((capacity, PIXELS_PER_FACE), dtype=np.uint8)
        spans = np.zeros((capacity, 6), dtype=np.int64)
        status = np.zeros(capacity, dtype=np.int8)
        lines = _scan_block(
            view,
            len(columns),
            columns.index("pixels"),
            columns.index("emotion"),
            usage_column,
            faces,
            spans,
            status,
        )
        if lines >= 0:
            break
        capacity = block.count(b"\n", offset) + 1
    keep = np.flatnonzero(status[:lines] != _BLANK)
    spans = spans[keep] + offset
    status = status[keep]
    return {
        "lines": lines,
        "keep": keep,
        "faces": faces[:lines] if len(keep) == lines else faces[keep],
        "status": status,
        "emotion": _slices(block, spans[:, 2], spans[:, 3]),
        "usage": _slices(block, spans[:, 4], spans[:, 5]) if usage_column >= 0 else None,
        "check": {i: block[spans[i, 0] : spans[i, 1]] for i in np.flatnonzero(status == _CHECK).tolist()},
    }


def _slices(block: bytes, starts: np.ndarray, ends: np.ndarray) -> list[str]:
    return [
        block[a:b].decode("utf-8", "replace").strip()
        for a, b in zip(starts.tolist(), ends.tolist(), strict=False)
    ]


def _join(parts: list[dict], columns: list[str]) -> RawFaces:
    rows, first_line = [], 2
    for part in parts:
        rows.append(first_line + part["keep"])
        first_line += part["lines"]
    count = sum(len(part["keep"]) for part in parts)
    status = np.concatenate([part["status"] for part in parts]) if parts else np.zeros(0, np.int8)
    faces = np.concatenate([part["faces"] for part in parts]) if parts else np.zeros((0, PIXELS_PER_FACE))
    parsed = RawFaces(
        columns=columns,
        rows=np.concatenate(rows) if rows else np.zeros(0, np.int64),
        emotion=[text for part in parts for text in part["emotion"]],
        usage=[text for part in parts for text in part["usage"]] if "Usage" in columns else None,
        faces=faces.astype(np.uint8, copy=False).reshape(count, IMAGE_SIZE, IMAGE_SIZE),
        pixel_count=np.where(status == _GOOD, PIXELS_PER_FACE, -1),
        pixel_min=np.full(count, -1),
        pixel_max=np.full(count, -1),
        field_count=np.full(count, len(columns)),
        problem=[""] * count,
    )
    first = 0
    for part in parts:
        for i, line in part["check"].items():
            _check_line(parsed, first + i, line)
        first += len(part["keep"])
    return parsed


def _check_line(parsed: RawFaces, index: int, line: bytes) -> None:
    # Parse a line the kernel rejected with the csv module and record what is wrong.
    columns = parsed.columns
    texts = _slow_fields(line)
    parsed.faces[index] = 0
    parsed.field_count[index] = len(texts)
    _store_fields(parsed, index, texts)
    parsed.text[int(parsed.rows[index])] = texts
    if len(texts) != len(columns):
        parsed.problem[index] = f"{len(texts)} fields, expected {len(columns)} ({','.join(columns)})"
    else:
        _parse_pixel_text(parsed, index, texts[columns.index("pixels")])


def _slow_fields(line: bytes) -> list[str]:
    return next(csv.reader(io.StringIO(line.decode("utf-8", "replace"))), [""])


def _store_fields(parsed: RawFaces, line: int, texts: list[str]) -> None:
    columns = parsed.columns
    fits = len(texts) == len(columns)
    parsed.emotion[line] = texts[columns.index("emotion")].strip() if fits else ""
    if parsed.usage is not None:
        parsed.usage[line] = texts[columns.index("Usage")].strip() if fits else ""


def _parse_pixel_text(parsed: RawFaces, line: int, text: str) -> None:
    # Parse the pixel field of a rejected line with the rules of the kernel.
    if not PIXEL_TEXT.fullmatch(text):
        parsed.problem[line] = "pixels: expected integers separated by single spaces"
        return
    numbers = np.minimum(np.array(text.split(" "), dtype=np.float64), 2**31 - 1).astype(np.int64)
    parsed.pixel_count[line] = len(numbers)
    parsed.pixel_min[line] = numbers.min()
    parsed.pixel_max[line] = numbers.max()
    if numbers.max() > 255:
        parsed.problem[line] = f"pixels: grey level {numbers.max()} is above 255"
    elif len(numbers) != PIXELS_PER_FACE:
        parsed.problem[line] = f"pixels: {len(numbers)} grey levels, expected {PIXELS_PER_FACE}"
    else:
        parsed.faces[line] = numbers.astype(np.uint8).reshape(IMAGE_SIZE, IMAGE_SIZE)
