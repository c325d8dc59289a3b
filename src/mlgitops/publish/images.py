"""The report's images, checked before a write token commits them: real PNGs, within caps.

The images come from the PR's run (maybe a fork's code), so each must be a flat
`images/<name>.png` that opens like a PNG (signature, then an IHDR chunk whose CRC holds) with
sane dimensions, and the lot must stay small: a report has a handful of charts.
"""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

from mlgitops.errors import UsageError

MAX_FILES = 20
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_TOTAL_BYTES = 10 * 1024 * 1024
MAX_SIDE = 8192  # pixels; matplotlib's report charts are ~1000
_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*\.png$")


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the PNG's IHDR chunk; ValueError when it is not a PNG."""
    if not data.startswith(_SIGNATURE):
        raise ValueError("not a PNG (no PNG signature)")
    header = data[8:33]
    if len(header) < 25:
        raise ValueError("a truncated PNG")
    length, kind = struct.unpack(">I4s", header[:8])
    if kind != b"IHDR" or length != 13:
        raise ValueError("a PNG whose first chunk is not IHDR")
    (crc,) = struct.unpack(">I", header[21:25])
    if zlib.crc32(header[4:21]) != crc:
        raise ValueError("a PNG whose IHDR chunk is corrupt")
    width, height = struct.unpack(">II", header[8:16])
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise ValueError(f"a {width}x{height} PNG (at most {MAX_SIDE} pixels a side)")
    return width, height


def read_images(folder: Path, names: list[str]) -> dict[str, bytes]:
    """{name: bytes} of `folder/images/<name>` for each linked name; UsageError if any check
    fails (a nested path, a file that is not a PNG, too many, too large)."""
    images_dir = folder / "images"
    present = sorted(images_dir.iterdir()) if images_dir.is_dir() else []
    for entry in present:
        if entry.is_symlink() or not entry.is_file():
            raise UsageError(f"{entry} is not a plain file; the images folder must be flat")
    if len(present) > MAX_FILES:
        raise UsageError(f"{images_dir} holds {len(present)} files, more than {MAX_FILES}")
    images: dict[str, bytes] = {}
    for name in names:
        image = images_dir / name
        if not _NAME.match(name):
            raise UsageError(f"images/{name}: not a plain <name>.png file name")
        if image not in present:
            raise UsageError(f"the report links images/{name} but {image} is missing")
        if image.stat().st_size > MAX_FILE_BYTES:
            raise UsageError(f"{image} is over {MAX_FILE_BYTES // 1024 // 1024} MiB")
        data = image.read_bytes()
        try:
            png_size(data)
        except ValueError as error:
            raise UsageError(f"{image} is {error}") from None
        images[name] = data
    total = sum(len(data) for data in images.values())
    if total > MAX_TOTAL_BYTES:
        raise UsageError(f"the images add up to {total} bytes, more than {MAX_TOTAL_BYTES}")
    return images
