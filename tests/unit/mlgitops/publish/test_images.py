"""Images are checked before a write token commits them: PNG, flat, within the caps."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from mlgitops.errors import UsageError
from mlgitops.publish import images
from mlgitops.publish.images import png_size, read_images
from tests.standins.report_dir import png


def _folder(tmp_path: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        path = tmp_path / "images" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return tmp_path


def _header(width: int, height: int) -> bytes:
    """A PNG signature and a valid IHDR chunk claiming `width` x `height`."""
    fields = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + fields
    return (
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
    )


def test_real_pngs_are_read_with_their_dimensions(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"roc.png": png(), "pr.png": png(rgb=(1, 2, 3))})
    assert read_images(folder, ["roc.png"]) == {"roc.png": png()}
    assert png_size(png()) >= (1, 1)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"<svg onload=alert(1)>", "no PNG signature"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "not IHDR"),
        (_header(4, 4)[:-1] + b"\0", "corrupt"),
        (_header(100_000, 10), "at most 8192"),
        (_header(0, 10), "0x10"),
    ],
    ids=["svg", "no-ihdr", "bad-crc", "huge", "empty"],
)
def test_what_is_not_a_sane_png_is_refused(tmp_path: Path, data: bytes, why: str) -> None:
    folder = _folder(tmp_path, {"roc.png": data})
    with pytest.raises(UsageError, match=why):
        read_images(folder, ["roc.png"])


def test_nested_paths_and_odd_names_are_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"sub/roc.png": png()})
    with pytest.raises(UsageError, match="must be flat"):
        read_images(folder, [])
    with pytest.raises(UsageError, match=r"plain <name>\.png"):
        read_images(_folder(tmp_path / "b", {"x.png": png()}), ["..png"])


def test_too_many_or_too_large_files_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    many = _folder(tmp_path / "many", {f"i{n}.png": png() for n in range(21)})
    with pytest.raises(UsageError, match="more than 20"):
        read_images(many, ["i0.png"])
    two = _folder(tmp_path / "two", {"a.png": png(), "b.png": png(rgb=(3, 3, 3))})
    monkeypatch.setattr(images, "MAX_FILE_BYTES", len(png()) - 1)
    with pytest.raises(UsageError, match="is over"):
        read_images(two, ["a.png"])
    monkeypatch.setattr(images, "MAX_FILE_BYTES", 10**6)
    monkeypatch.setattr(images, "MAX_TOTAL_BYTES", len(png()) + 1)
    with pytest.raises(UsageError, match="add up to"):
        read_images(two, ["a.png", "b.png"])
