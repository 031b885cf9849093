"""Reading any image a user or the dataset may hand us, safely, as RGB."""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

MAX_PIXELS = 40_000_000  # larger images are refused before decoding (decompression bombs)
MAX_BYTES = 25 * 1024 * 1024

Image.MAX_IMAGE_PIXELS = MAX_PIXELS
ImageFile.LOAD_TRUNCATED_IMAGES = False


class ImageError(ValueError):
    """The input is not an image we can use; the message says why, for a person."""


def load_rgb(source: str | os.PathLike | bytes | io.IOBase) -> Image.Image:
    """Decode ``source`` (path, bytes or file object) into an upright RGB image.

    Handles EXIF orientation, palette or alpha (composited on white), CMYK,
    grayscale and 16-bit modes; animated images give their first frame.
    Raises :class:`ImageError` with a clear message for anything unusable.
    """
    data = _read_bytes(source)
    if not data:
        raise ImageError("the file is empty (0 bytes)")
    if len(data) > MAX_BYTES:
        raise ImageError(f"the file is {len(data) / 2**20:.1f} MiB; the limit is {MAX_BYTES // 2**20} MiB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageError(f"the image is {width}×{height} pixels; the limit is {MAX_PIXELS:,} pixels")
            if width < 1 or height < 1:
                raise ImageError("the image has no pixels")
            image.seek(0)
            image.load()
            image = ImageOps.exif_transpose(image) or image
            return to_rgb(image)
    except ImageError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(_reason(exc)) from exc
    except (OSError, SyntaxError, ValueError, TypeError, IndexError, KeyError, EOFError, MemoryError, ZeroDivisionError) as exc:
        raise ImageError(f"the image could not be decoded ({type(exc).__name__}: {exc}); it may be truncated or corrupt") from exc


def _reason(exc: BaseException) -> str:
    if isinstance(exc, UnidentifiedImageError):
        return "this is not an image format we can read (JPEG, PNG, WebP, BMP, GIF, TIFF)"
    return f"the image is too large to decode safely ({exc})"


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
    """16-bit or float grayscale: scale its range to 0..255 rather than clip it."""
    import numpy as np

    array = np.asarray(image, dtype=np.float64)
    low, high = float(np.nanmin(array)), float(np.nanmax(array))
    scaled = np.zeros_like(array) if high <= low else (array - low) / (high - low) * 255.0
    return Image.fromarray(np.nan_to_num(scaled).astype(np.uint8), mode="L").convert("RGB")
