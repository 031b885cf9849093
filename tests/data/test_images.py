"""Decoding what users upload: odd modes become RGB, unusable files get clear messages."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image

from core.data.images import ImageError, load_rgb


def _png_bytes(image: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def test_odd_images_become_rgb():
    palette = Image.new("P", (8, 8), 0)
    palette.putpalette([255, 0, 0] * 256)
    palette.info["transparency"] = 0
    assert load_rgb(_png_bytes(palette)).getpixel((0, 0)) == (255, 255, 255)
    cmyk = Image.new("CMYK", (10, 6), (0, 255, 0, 0))
    assert load_rgb(_png_bytes(cmyk, "JPEG")).mode == "RGB"
    sixteen = Image.fromarray(np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16)
    assert sixteen.mode.startswith("I;16")
    rgb16 = load_rgb(_png_bytes(sixteen))
    assert rgb16.mode == "RGB" and rgb16.getextrema()[0] == (0, 255)
    rotated = Image.new("RGB", (40, 20), "blue")
    exif = Image.Exif()
    exif[0x0112] = 6
    assert load_rgb(_png_bytes(rotated, "JPEG", exif=exif)).size == (20, 40)
    frames = [Image.new("RGB", (5, 5), c) for c in ("red", "green")]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:])
    assert load_rgb(gif.getvalue()).getpixel((0, 0))[0] > 200
    for fmt in ("WEBP", "BMP", "TIFF"):
        assert load_rgb(_png_bytes(Image.new("L", (7, 7), 128), fmt)).mode == "RGB"


def test_unusable_images_get_clear_messages(tmp_path, monkeypatch):
    real = _png_bytes(Image.new("RGB", (64, 64), "white"), "JPEG")
    cases = {
        b"": "empty",
        os.urandom(2000): "not an image format",
        real[: len(real) // 2]: "truncated or corrupt",
    }
    for data, needle in cases.items():
        with pytest.raises(ImageError, match=needle):
            load_rgb(data)
    with pytest.raises(ImageError, match="no such file"):
        load_rgb(tmp_path / "missing.jpg")
    monkeypatch.setattr("core.data.images.MAX_PIXELS", 100)
    with pytest.raises(ImageError, match="limit"):
        load_rgb(_png_bytes(Image.new("RGB", (20, 20))))
    monkeypatch.setattr("core.data.images.MAX_BYTES", 10)
    with pytest.raises(ImageError, match="MiB"):
        load_rgb(real)


def test_png_header_claiming_enormous_size_is_refused():
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")
    with pytest.raises(ImageError, match="too large|limit"):
        load_rgb(bomb)
