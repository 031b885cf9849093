"""Reading any image a user or the dataset may hand us, safely, as RGB."""

from __future__ import annotations

import io
import os
import re
import struct
import warnings
from pathlib import Path

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

MAX_PIXELS = 40_000_000  # larger images are refused before decoding (decompression bombs)
MAX_BYTES = 25 * 1024 * 1024
MAX_ASPECT = 100  # longer than 100:1 is no photo, and the backbone's resize would make it enormous
FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "GIF", "TIFF", "ICO")  # the only decoders let near user input (MPO comes with JPEG)

# Pillow raises DecompressionBombError above twice its limit, i.e. above MAX_PIXELS, also for a frame it only
# finds while loading (ICO): an exception, where turning its warning into one would need warnings.catch_warnings(),
# which is not thread-safe, and the dashboard decodes uploads in many session threads at once.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS // 2
ImageFile.LOAD_TRUNCATED_IMAGES = False
warnings.filterwarnings("ignore", module="PIL")  # notes on corrupt EXIF, images of 20-40 MP: the outcome says enough
# What Pillow's decoders raise on corrupt input (the fuzz test, tests/test_fuzz_images.py, holds them to this).
DECODE_ERRORS = (OSError, SyntaxError, ValueError, TypeError, IndexError, KeyError, EOFError, MemoryError, ArithmeticError,
                 struct.error)


class ImageError(ValueError):
    """The input is not an image we can use; the message says why, for a person."""


def load_rgb(source: str | os.PathLike | bytes | io.IOBase) -> Image.Image:
    """Decode ``source`` (path, bytes or file object) into an upright RGB image.

    Handles EXIF orientation (ignored when the EXIF is broken), palette or alpha
    (composited on white), CMYK, 1-bit, 16-bit and float modes; animations give
    their first frame. Raises :class:`ImageError` with a clear message for
    anything unusable: not an image, corrupt, too many bytes or pixels, or too
    long and thin.
    """
    data = _read_bytes(source)
    if not data:
        raise ImageError("the file is empty (0 bytes)")
    if len(data) > MAX_BYTES:
        raise ImageError(f"the file is {len(data) / 2**20:.1f} MiB; the limit is {MAX_BYTES // 2**20} MiB")
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
        _check_size(*image.size)
        image.seek(0)
        image.load()
        _check_size(*image.size)  # some formats (ICO, animations) learn their true size while loading
        return to_rgb(_upright(image))
    except ImageError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise ImageError(_reason(exc)) from exc
    except DECODE_ERRORS as exc:
        raise ImageError(f"the image could not be decoded ({type(exc).__name__}: {exc}); it may be truncated or corrupt") from exc


def _check_size(width: int, height: int) -> None:
    """Refuse before decoding: no pixels, too many (a decompression bomb), or a shape no photo has."""
    if width < 1 or height < 1:
        raise ImageError(f"the image is {width}×{height} pixels: it has no pixels")
    if width * height > MAX_PIXELS:
        raise ImageError(f"the image is {width}×{height} pixels, too large to decode safely; the limit is {MAX_PIXELS:,} pixels")
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise ImageError(f"the image is {width}×{height} pixels: more than {MAX_ASPECT} times longer than wide, "
                         "not a photo we can use")


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; broken EXIF is metadata we can do without."""
    try:
        return ImageOps.exif_transpose(image) or image
    except Exception:  # any parser error in a corrupt EXIF block
        return image


def _reason(exc: BaseException) -> str:
    if isinstance(exc, UnidentifiedImageError):
        return "this is not an image format we can read (JPEG, PNG, WebP, BMP, GIF, TIFF, ICO)"
    found = re.search(r"\((\d+) pixels\)", str(exc))
    count = f" ({int(found[1]):,})" if found else ""
    return f"the image has too many pixels{count} to decode safely; the limit is {MAX_PIXELS:,} pixels"


def _read_bytes(source: str | os.PathLike | bytes | io.IOBase) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise ImageError(f"no such file: {path}")
        if path.stat().st_size > MAX_BYTES:
            raise ImageError(f"the file is {path.stat().st_size / 2**20:.1f} MiB; the limit is {MAX_BYTES // 2**20} MiB")
        return path.read_bytes()
    return source.read(MAX_BYTES + 1)


def to_rgb(image: Image.Image) -> Image.Image:
    """Any PIL mode to 8-bit RGB; transparency is composited on white."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return _wide_to_rgb(image)
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _wide_to_rgb(image: Image.Image) -> Image.Image:
    """16-bit, 32-bit or float grayscale: scale its finite range to 0..255 (NaN → 0, ±inf → the ends)."""
    import numpy as np

    array = np.asarray(image, dtype=np.float32)
    finite = array[np.isfinite(array)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    scale = 255.0 / (high - low) if high > low else 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = (np.nan_to_num(array, nan=low, posinf=high, neginf=low) - low) * scale
    return Image.fromarray(np.clip(scaled, 0, 255).astype(np.uint8), mode="L").convert("RGB")
