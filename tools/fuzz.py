"""Hostile image inputs for the decode → detect faces → predict path, and a runner.

``generate_inputs(count, seed, seed_images)`` yields :class:`FuzzInput` s of
many kinds: random bytes, mutated real JPEG/PNG/WebP files (bit flips, byte
insertions and deletions, duplicated chunks, overwritten integers,
truncation), empty files, decompression bombs (headers claiming enormous
dimensions), animations, TIFF, ICO, broken EXIF and odd pixel modes. Every
kind occurs once in each cycle of ``sum(WEIGHTS.values())`` inputs, so a short
run still covers them all. ``run_fuzz`` feeds them to a
:class:`~core.learning.predict.Predictor` and tallies how each one ended.
"""

from __future__ import annotations

import io
import os
import random
import resource
import struct
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache

import numpy as np
from PIL import Image

from core.data.images import ImageError, load_rgb

FORMATS = ("jpeg", "png", "webp")
MUTATIONS = ("bitflip", "insert", "delete", "duplicate", "intval", "truncate")


@dataclass(frozen=True)
class FuzzInput:
    kind: str
    data: bytes


class SeedCorpus:
    """Real images, reduced to ``max_side``, as JPEG (the original file where small), PNG and WebP bytes.

    At most ``max_seeds`` files are used (a seeded sample); everything is decoded once and cached.
    """

    def __init__(self, paths: Sequence[str | os.PathLike], seed: int = 0, max_side: int = 256, max_seeds: int = 64,
                 max_original: int = 256 * 1024):
        if not paths:
            raise ValueError("the fuzzer needs at least one real seed image")
        paths = sorted(str(p) for p in paths)
        self.paths = random.Random(seed).sample(paths, min(max_seeds, len(paths)))
        self.max_side, self.max_original = max_side, max_original
        self._images: dict[int, Image.Image] = {}
        self._encoded: dict[tuple[int, str], bytes] = {}

    def _image(self, index: int) -> Image.Image:
        if index not in self._images:
            with Image.open(self.paths[index]) as im:
                im.draft("RGB", (self.max_side, self.max_side))
                image = im.convert("RGB")
            image.thumbnail((self.max_side, self.max_side))
            self._images[index] = image
        return self._images[index]

    def image(self, rng: random.Random) -> Image.Image:
        """A copy of a random seed image, RGB."""
        return self._image(rng.randrange(len(self.paths))).copy()

    def encoded(self, rng: random.Random, fmt: str) -> bytes:
        """A random seed image's bytes in ``fmt`` ("jpeg", "png" or "webp")."""
        index = rng.randrange(len(self.paths))
        if (index, fmt) not in self._encoded:
            raw = open(self.paths[index], "rb").read()
            if fmt == "jpeg" and raw[:3] == b"\xff\xd8\xff" and len(raw) <= self.max_original:
                self._encoded[index, fmt] = raw
            else:
                self._encoded[index, fmt] = _encode(self._image(index), fmt.upper(), quality=rng.choice([50, 85, 95]))
        return self._encoded[index, fmt]


def _encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


# --- mutations of real files ----------------------------------------------------------------------------

INTERESTING = [0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]


def _position(rng: random.Random, n: int) -> int:
    """A byte offset, biased towards the header where the parsers' decisions are."""
    return rng.randrange(min(n, 512)) if rng.random() < 0.5 else rng.randrange(n)


def mutate(data: bytes, mutation: str, rng: random.Random) -> bytes:
    """``data`` with one of MUTATIONS applied (a few times for the small ones)."""
    buf = bytearray(data)
    if mutation == "bitflip":
        for _ in range(rng.choice([1, 1, 2, 4, 16, 64])):
            buf[_position(rng, len(buf))] ^= 1 << rng.randrange(8)
    elif mutation == "insert":
        for _ in range(rng.randint(1, 4)):
            at = _position(rng, len(buf))
            filler = [rng.randbytes(rng.randint(1, 64)), b"\x00" * rng.randint(1, 64), b"\xff" * rng.randint(1, 8)]
            buf[at:at] = rng.choice(filler)
    elif mutation == "delete":
        for _ in range(rng.randint(1, 3)):
            at = _position(rng, len(buf))
            del buf[at : at + rng.randint(1, 256)]
    elif mutation == "duplicate":
        start = rng.randrange(len(buf))
        chunk = bytes(buf[start : start + rng.randint(8, 4096)])
        at = _position(rng, len(buf))
        buf[at:at] = chunk * rng.choice([1, 1, 2, 16])
    elif mutation == "intval":
        for _ in range(rng.randint(1, 4)):
            width, order = rng.choice([(1, "big"), (2, "big"), (2, "little"), (4, "big"), (4, "little")])
            at = _position(rng, max(1, len(buf) - width))
            buf[at : at + width] = (rng.choice(INTERESTING) & (256**width - 1)).to_bytes(width, order)
    elif mutation == "truncate":
        buf = buf[: _position(rng, len(buf))]
    else:
        raise ValueError(f"unknown mutation {mutation!r}")
    return bytes(buf)


def fix_png_crcs(data: bytes) -> bytes:
    """Recompute every chunk's CRC, so that a mutated PNG reaches the decoder instead of the CRC check."""
    out, at = bytearray(data[:8]), 8
    while at + 12 <= len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        body = data[at + 4 : at + 8 + length]
        if at + 12 + length > len(data):
            break
        out += data[at : at + 8 + length] + struct.pack(">I", zlib.crc32(body))
        at += 12 + length
    return bytes(out + data[at:])


def _mutated(rng: random.Random, corpus: SeedCorpus, mutation: str, fmt: str) -> bytes:
    """A seed in ``fmt`` mutated; PNGs also get their CRCs fixed, or the mutation inside the inflated pixel stream."""
    data, where = corpus.encoded(rng, fmt), rng.randrange(3)
    if fmt != "png" or where == 0:
        return mutate(data, mutation, rng)
    if where == 1:
        return fix_png_crcs(mutate(data, mutation, rng))
    with Image.open(io.BytesIO(data)) as im:
        width, height = im.size
    idat = b"".join(data[at + 8 : at + 8 + struct.unpack(">I", data[at : at + 4])[0]] for at in _chunks(data, b"IDAT"))
    return png_bytes(width, height, zlib.compress(mutate(zlib.decompress(idat), mutation, rng)))


def _chunks(data: bytes, kind: bytes) -> list[int]:
    """Offsets of the PNG chunks of ``kind``."""
    out, at = [], 8
    while at + 12 <= len(data):
        length = struct.unpack(">I", data[at : at + 4])[0]
        if data[at + 4 : at + 8] == kind:
            out.append(at)
        at += 12 + length
    return out


# --- hand-made headers --------------------------------------------------------------------------------


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk with a correct CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(width: int, height: int, idat: bytes, bit_depth: int = 8, color_type: int = 2, extra: bytes = b"") -> bytes:
    """A PNG with any IHDR, one IDAT of already-compressed ``idat``, and ``extra`` chunks before it."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + extra + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


HUGE_DIMS = [(100_000, 100_000), (65_535, 65_535), (50_000, 1_000), (8_000, 8_000), (2**31 - 1, 2**31 - 1), (40_000_001, 1)]


def _bomb_png(rng: random.Random) -> bytes:
    width, height = rng.choice(HUGE_DIMS)
    bit_depth, color_type = rng.choice([(8, 2), (8, 6), (1, 0), (16, 2), (8, 0)])
    return png_bytes(width, height, zlib.compress(b"\x00" * rng.randint(1, 4096)), bit_depth, color_type)


@cache
def _deflate_bomb(side: int) -> bytes:
    """A complete, valid 1-bit PNG of side×side zeros: a few KiB that decode to side² pixels."""
    row = b"\x00" * (1 + (side + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row * 500) for _ in range(side // 500)) + packer.compress(row * (side % 500)) + packer.flush()
    return png_bytes(side, side, idat, bit_depth=1, color_type=0)


def _bomb_png_deflate(rng: random.Random) -> bytes:
    return _deflate_bomb(rng.choice([6400, 8000, 16000]))


def _bomb_gif(rng: random.Random) -> bytes:
    width, height = rng.choice([(65_535, 65_535), (40_000, 40_000), (10_000, 5_000)])
    screen = b"GIF89a" + struct.pack("<HHBBB", width, height, 0xF0, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = b"," + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x02\x4c\x01\x00"
    return screen + frame + b";"


def _bomb_bmp(rng: random.Random) -> bytes:
    width, height = rng.choice([(100_000, 100_000), (50_000, -50_000), (2**31 - 1, 1), (10_000, 10_000)])
    pixels = b"\x00" * rng.randint(0, 4096)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 54 + len(pixels), 0, 0, 54) + info + pixels


def _bomb_jpeg(rng: random.Random) -> bytes:
    data = bytearray(_encode(Image.new("RGB", (16, 16), "gray"), "JPEG"))
    sof = data.index(b"\xff\xc0")
    height, width = rng.choice([(65_500, 65_500), (60_000, 1_000), (9_000, 9_000)])
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _bomb_tiff(rng: random.Random) -> bytes:
    width, height = rng.choice([(100_000, 100_000), (4_000_000, 4_000_000), (20_000, 20_000)])
    tags = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1), (273, 4, 200), (277, 3, 1),
            (278, 4, height), (279, 4, 64)]
    ifd = struct.pack("<H", len(tags)) + b"".join(struct.pack("<HHII", tag, kind, 1, value) for tag, kind, value in tags)
    body = b"II*\x00" + struct.pack("<I", 8) + ifd + b"\x00\x00\x00\x00"
    return body + b"\x00" * (264 - len(body))


def _bomb_webp(rng: random.Random) -> bytes:
    width, height = rng.choice([(16_384, 16_384), (10_000, 8_000)])
    bits = (width - 1) | (height - 1) << 14
    payload = b"\x2f" + struct.pack("<I", bits) + rng.randbytes(rng.randint(16, 256))
    payload += b"\x00" * (len(payload) % 2)
    chunk = b"VP8L" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def _bomb_ico(rng: random.Random) -> bytes:
    inner = _bomb_png(rng)
    entry = struct.pack("<BBBBHHII", 0, 0, 0, 0, 1, 32, len(inner), 22)
    return struct.pack("<HHH", 0, 1, 1) + entry + inner


# --- odd but legal images -----------------------------------------------------------------------------


def _animated(rng: random.Random, corpus: SeedCorpus, fmt: str) -> bytes:
    base = corpus.image(rng)
    base.thumbnail((rng.randint(8, 160),) * 2)
    frames = [base.rotate(rng.randint(0, 359)) for _ in range(rng.randint(2, 12))]
    if fmt == "GIF":
        frames = [f.quantize(256, method=Image.Quantize.FASTOCTREE) for f in frames]
        return _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], loop=0, disposal=rng.randint(0, 3),
                       duration=rng.choice([0, 10, 100]), transparency=rng.randint(0, 255))
    return _encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=rng.choice([10, 100]))


def _tiff(rng: random.Random, corpus: SeedCorpus) -> bytes:
    image = corpus.image(rng)
    mode, compression = rng.choice([("RGB", None), ("RGB", "tiff_lzw"), ("RGB", "jpeg"), ("L", "tiff_adobe_deflate"),
                                    ("1", "group4"), ("CMYK", "packbits"), ("RGBA", "tiff_lzw"), ("I;16", None),
                                    ("F", None), ("I", "tiff_adobe_deflate"), ("LAB", None), ("YCbCr", None)])
    pages = [image.convert(mode) if mode not in ("I;16", "F", "I") else _wide(image, mode, rng)]
    if rng.random() < 0.3:
        pages.append(pages[0].rotate(90))
    return _encode(pages[0], "TIFF", compression=compression, save_all=True, append_images=pages[1:])


def _wide(image: Image.Image, mode: str, rng: random.Random) -> Image.Image:
    """16-bit, 32-bit integer or float grayscale, sometimes constant or with NaN/inf."""
    gray = np.asarray(image.convert("L"), dtype=np.float64)
    scale = rng.choice([1.0, 257.0, 0.0, -1e6, 1e-30])
    if mode == "I;16":
        return Image.fromarray(np.clip(gray * abs(scale), 0, 65535).astype(np.uint16))
    if mode == "I":
        return Image.fromarray((gray * scale - 2**20).astype(np.int32))
    values = (gray * scale).astype(np.float32)
    if rng.random() < 0.5:
        values.flat[rng.randrange(values.size)] = rng.choice([np.nan, np.inf, -np.inf])
    return Image.fromarray(values)


def _ico(rng: random.Random, corpus: SeedCorpus) -> bytes:
    sizes = rng.sample([(16, 16), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)], rng.randint(1, 4))
    return _encode(corpus.image(rng).resize((256, 256)).convert(rng.choice(["RGB", "RGBA"])), "ICO", sizes=sizes,
                   bitmap_format=rng.choice(["png", "bmp"]))


def _exif_orientation(rng: random.Random, corpus: SeedCorpus) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = rng.choice([0, 9, 255, 65535, *range(1, 9)])
    fmt = rng.choice(["JPEG", "JPEG", "PNG", "WEBP"])
    return _encode(corpus.image(rng), fmt, exif=exif)


def _exif_corrupt(rng: random.Random, corpus: SeedCorpus) -> bytes:
    """A real JPEG whose APP1 Exif block is garbage, truncated, or has IFDs pointing anywhere."""
    jpeg = _encode(corpus.image(rng), "JPEG")
    exif = Image.Exif()
    exif[0x0112] = rng.randint(1, 8)
    exif[0x010F] = "fuzz"
    tiff = bytearray(exif.tobytes())
    choice = rng.randrange(4)
    if choice == 0:
        tiff = bytearray(rng.randbytes(rng.randint(0, 200)))
    elif choice == 1:
        tiff = tiff[: rng.randrange(len(tiff))]
    elif choice == 2:  # an IFD entry count or offset overwritten with a huge or self-referencing value
        at = rng.choice([4, 8, 10, 14, 18])
        tiff[at : at + 4] = struct.pack("<I", rng.choice([0xFFFFFFFF, 8, 0x7FFFFFFF, len(tiff) + 100]))
    else:
        tiff = mutate(bytes(tiff), "bitflip", rng)
    block = b"Exif\x00\x00" + bytes(tiff)
    app1 = b"\xff\xe1" + struct.pack(">H", min(len(block) + 2, 0xFFFF)) + block
    return jpeg[:2] + app1 + jpeg[2:]


def _mode(rng: random.Random, corpus: SeedCorpus, mode: str) -> bytes:
    image = corpus.image(rng)
    if mode == "I;16":
        return _encode(_wide(image, "I;16", rng), rng.choice(["PNG", "TIFF"]))
    if mode == "F":
        return _encode(_wide(image, "F", rng), "TIFF")
    if mode == "CMYK":
        return _encode(image.convert("CMYK"), "JPEG", quality=rng.choice([60, 90]))
    if mode == "P+alpha":
        palette = image.quantize(rng.choice([2, 16, 256]), method=Image.Quantize.FASTOCTREE)
        fmt = rng.choice(["PNG", "GIF"])
        if fmt == "PNG" and rng.random() < 0.5:
            return _encode(palette, fmt, transparency=bytes(rng.randrange(256) for _ in range(rng.randint(1, 256))))
        return _encode(palette, fmt, transparency=rng.randrange(256))
    if mode == "LA":
        return _encode(image.convert("LA"), rng.choice(["PNG", "TIFF"]))
    if mode == "1":
        return _encode(image.convert("1"), rng.choice(["PNG", "BMP", "TIFF", "GIF"]))
    raise ValueError(mode)


@cache
def _huge(width: int, height: int, fmt: str) -> bytes:
    """A legal image just under the pixel limit (a gradient, so the decoder does real work)."""
    row = np.linspace(0, 255, width, dtype=np.float32).astype(np.uint8)
    return _encode(Image.fromarray(np.broadcast_to(row, (height, width)).copy()), fmt)


def _huge_legal(rng: random.Random) -> bytes:
    return _huge(*rng.choice([(6000, 6000, "PNG"), (8000, 5000, "PNG"), (6300, 6300, "JPEG"), (5000, 4000, "BMP")]))


def _extreme_aspect(rng: random.Random) -> bytes:
    width, height = rng.choice([(1, 40_000), (100_000, 1), (20_000, 3), (2, 60_000), (800, 1)])
    if rng.random() < 0.5:
        width, height = height, width
    fmt = "GIF" if max(width, height) < 65536 and rng.random() < 0.5 else "PNG"
    return _encode(Image.new("L", (width, height), rng.randrange(256)), fmt)


def _png_chunks(rng: random.Random, corpus: SeedCorpus) -> bytes:
    """A real PNG carrying garbage ICC profiles, a zTXt decompression bomb or junk chunks."""
    png = _encode(corpus.image(rng), "PNG")
    choice = rng.randrange(6)
    if choice == 0:
        extra = png_chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(rng.randbytes(rng.randint(0, 2000))))
    elif choice == 1:
        extra = png_chunk(b"zTXt", b"bomb\x00\x00" + _ztxt_bomb())
    elif choice == 2:
        extra = png_chunk(b"eXIf", rng.randbytes(rng.randint(0, 300)))
    elif choice == 3:
        extra = png_chunk(b"tEXt", b"k\x00" + rng.randbytes(rng.randint(0, 5000)))
    elif choice == 4:
        extra = png_chunk(b"sBIT", rng.randbytes(rng.randint(0, 8))) + png_chunk(b"gAMA", rng.randbytes(rng.randint(0, 8)))
    else:
        extra = png_chunk(b"acTL", struct.pack(">II", 0xFFFFFFFF, 0))
    return png[:33] + extra + png[33:]


@cache
def _ztxt_bomb() -> bytes:
    return zlib.compress(b"\x00" * 50_000_000, 9)


MAGIC = [b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*", b"RIFF\x00\x00\x00\x00WEBPVP8 ",
         b"\x00\x00\x01\x00", b"%!PS-Adobe-3.0 EPSF-3.0\n", b"8BPS", b"P6\n", b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"<svg"]


def _other_format(rng: random.Random, corpus: SeedCorpus) -> bytes:
    """Formats Pillow knows but the app does not take (PPM, TGA, EPS, JPEG 2000, ...), and text posing as images."""
    fmt = rng.choice(["PPM", "TGA", "PCX", "SGI", "EPS", "DDS", "IM", "SPIDER", "ICNS", "JPEG2000", "QOI", "TEXT"])
    if fmt == "TEXT":
        svg = b"<svg xmlns='http://www.w3.org/2000/svg'><rect width='9' height='9'/></svg>"
        return rng.choice([svg, b"<html></html>", b"%PDF-1.4\n"])
    image = corpus.image(rng).convert("RGB")
    image.thumbnail((64, 64))
    return _encode(image, fmt)


KINDS: dict[str, Callable[[random.Random, SeedCorpus], bytes]] = {
    "empty": lambda rng, c: b"",
    "random_bytes": lambda rng, c: rng.randbytes(
        rng.choice([rng.randint(1, 16), rng.randint(17, 1024), rng.randint(1025, 65536)])),
    "magic+garbage": lambda rng, c: rng.choice(MAGIC) + rng.randbytes(rng.randint(0, 4096)),
    **{f"real/{fmt}": (lambda rng, c, fmt=fmt: c.encoded(rng, fmt)) for fmt in FORMATS},
    **{f"{m}/{fmt}": (lambda rng, c, m=m, fmt=fmt: _mutated(rng, c, m, fmt)) for m in MUTATIONS for fmt in FORMATS},
    "bomb/png-header": lambda rng, c: _bomb_png(rng),
    "bomb/png-deflate": lambda rng, c: _bomb_png_deflate(rng),
    "bomb/gif": lambda rng, c: _bomb_gif(rng),
    "bomb/bmp": lambda rng, c: _bomb_bmp(rng),
    "bomb/jpeg": lambda rng, c: _bomb_jpeg(rng),
    "bomb/tiff": lambda rng, c: _bomb_tiff(rng),
    "bomb/webp": lambda rng, c: _bomb_webp(rng),
    "bomb/ico": lambda rng, c: _bomb_ico(rng),
    "animated/gif": lambda rng, c: _animated(rng, c, "GIF"),
    "animated/png": lambda rng, c: _animated(rng, c, "PNG"),
    "animated/webp": lambda rng, c: _animated(rng, c, "WEBP"),
    "tiff": _tiff,
    "ico": _ico,
    "exif/orientation": _exif_orientation,
    "exif/corrupt": _exif_corrupt,
    **{f"mode/{m}": (lambda rng, c, m=m: _mode(rng, c, m)) for m in ("I;16", "F", "CMYK", "P+alpha", "LA", "1")},
    "huge_legal": lambda rng, c: _huge_legal(rng),
    "extreme_aspect": lambda rng, c: _extreme_aspect(rng),
    "png_chunks": _png_chunks,
    "other_format": _other_format,
}
# How many of each kind per cycle: mutations are cheap and find the most.
WEIGHTS: dict[str, int] = {kind: 3 if kind.split("/")[0] in MUTATIONS else 1 for kind in KINDS}
BOMB_KINDS = frozenset(k for k in KINDS if k.startswith("bomb/"))
# Legal images the app must predict, not refuse.
MUST_PREDICT = frozenset(k for k in KINDS if k.startswith(("real/", "animated/", "mode/")) or k in ("tiff", "ico", "huge_legal"))


def generate_inputs(count: int, seed: int, seed_images: Sequence[str | os.PathLike]) -> Iterator[FuzzInput]:
    """``count`` hostile inputs, reproducible from ``seed``; every kind once per weighted cycle."""
    rng, corpus = random.Random(seed), SeedCorpus(seed_images, seed)
    schedule: list[str] = []
    for _ in range(count):
        if not schedule:
            schedule = [kind for kind, weight in WEIGHTS.items() for _ in range(weight)]
            rng.shuffle(schedule)
        kind = schedule.pop()
        yield FuzzInput(kind, KINDS[kind](rng, corpus))


# --- running them ---------------------------------------------------------------------------------------


@dataclass
class KindStats:
    count: int = 0
    predicted: int = 0
    clean_error: int = 0
    unhandled: int = 0
    max_seconds: float = 0.0
    messages: Counter = field(default_factory=Counter)


@dataclass
class Failure:
    kind: str
    error: str  # "Type: message"
    data: bytes


@dataclass
class FuzzReport:
    kinds: dict[str, KindStats] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0
    peak_rss_mib: float = 0.0

    @property
    def total(self) -> KindStats:
        out = KindStats()
        for s in self.kinds.values():
            out.count += s.count
            out.predicted += s.predicted
            out.clean_error += s.clean_error
            out.unhandled += s.unhandled
            out.max_seconds = max(out.max_seconds, s.max_seconds)
        return out

    def table(self) -> str:
        rows = [f"{'kind':<22}{'count':>7}{'predicted':>11}{'clean-error':>13}{'unhandled':>11}{'max ms':>9}"]
        for kind, s in sorted(self.kinds.items()):
            rows.append(f"{kind:<22}{s.count:>7}{s.predicted:>11}{s.clean_error:>13}{s.unhandled:>11}"
                        f"{s.max_seconds * 1000:>9.0f}")
        t = self.total
        rows.append(f"{'TOTAL':<22}{t.count:>7}{t.predicted:>11}{t.clean_error:>13}{t.unhandled:>11}{t.max_seconds * 1000:>9.0f}")
        rate = t.count / self.seconds if self.seconds else 0.0
        rows.append(f"time {self.seconds:.1f} s, {rate:.1f} inputs/s, peak RSS {self.peak_rss_mib:.0f} MiB")
        return "\n".join(rows)

    def to_json(self) -> dict:
        return {
            "seconds": self.seconds,
            "inputs_per_second": self.total.count / self.seconds if self.seconds else None,
            "peak_rss_mib": self.peak_rss_mib,
            "kinds": {k: {"count": s.count, "predicted": s.predicted, "clean_error": s.clean_error, "unhandled": s.unhandled,
                          "max_ms": round(s.max_seconds * 1000, 1), "top_messages": s.messages.most_common(5)}
                      for k, s in sorted(self.kinds.items())},
            "failures": [{"kind": f.kind, "error": f.error, "size": len(f.data)} for f in self.failures],
        }


def untrained_checkpoint(path: str | os.PathLike, backbone: str = "efficientnet_lite0", seed: int = 0):
    """A real checkpoint file (saved and read back) of a freshly initialised, seeded quantum head.

    Fuzzing needs the whole decode → transform → predict path, not a good model.
    """
    import torch

    from core.circuit.definition import CircuitSpec
    from core.data.dataset import CLASSES
    from core.learning.backbones import get_info
    from core.learning.checkpoints import load_checkpoint, save_checkpoint
    from core.learning.heads import build_head

    info, spec = get_info(backbone), CircuitSpec()
    torch.manual_seed(seed)
    head = build_head("quantum", info.n_features, spec, None, n_classes=len(CLASSES))
    meta = {"backbone": backbone, "backend": "default.qubit", "shots": None, "n_qubits": spec.n_qubits, "depth": spec.depth,
            "classes": list(CLASSES), "in_features": info.n_features, "transform": asdict(info.transform), "metrics": {}}
    return load_checkpoint(save_checkpoint(path, head, meta))


def peak_rss_mib() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_fuzz(predictor, inputs: Iterable[FuzzInput], progress: Callable[[], None] | None = None) -> FuzzReport:
    """Decode → find faces → classify each face and the whole image, for every input.

    Each input ends predicted, as an ImageError (a clear refusal), or unhandled (a finding).
    """
    report = FuzzReport()
    started = time.perf_counter()

    def record(kind: str, outcome: str, seconds: float, message: str = "") -> None:
        stats = report.kinds.setdefault(kind, KindStats())
        stats.count += 1
        setattr(stats, outcome, getattr(stats, outcome) + 1)
        stats.max_seconds = max(stats.max_seconds, seconds)
        if message:
            stats.messages[message[:120]] += 1

    for item in inputs:
        t0 = time.perf_counter()
        try:
            image = load_rgb(item.data)
            verdict = predictor.predict_faces(image, whole_image=True)
            problem = _implausible(verdict, image.size, predictor.classes)
            record(item.kind, "unhandled" if problem else "predicted", time.perf_counter() - t0)
            if problem:
                report.failures.append(Failure(item.kind, problem, item.data))
        except ImageError as exc:
            message = str(exc).strip()
            record(item.kind, "clean_error" if message else "unhandled", time.perf_counter() - t0, message or "(empty message)")
            if not message:
                report.failures.append(Failure(item.kind, "ImageError with an empty message", item.data))
        except Exception as exc:  # the point: anything else is a finding
            record(item.kind, "unhandled", time.perf_counter() - t0)
            report.failures.append(Failure(item.kind, f"{type(exc).__name__}: {exc}", item.data))
        if progress:
            progress()
    report.seconds = time.perf_counter() - started
    report.peak_rss_mib = peak_rss_mib()
    return report


def _implausible(verdict, size: tuple[int, int], classes: list[str]) -> str:
    """What is wrong with a photo's verdict, or "": labels, finite probabilities, boxes inside the photo."""
    predictions = [verdict.whole_image] + [f.prediction for f in verdict.faces]
    for prediction in predictions:
        if prediction.label not in classes or not np.isfinite(prediction.probability):
            return f"bad prediction: {prediction}"
    for face in verdict.faces:
        x0, y0, x1, y1 = face.box
        if not (0 <= x0 < x1 <= size[0] and 0 <= y0 < y1 <= size[1]) or not np.isfinite(face.score):
            return f"bad face box {face.box} (score {face.score}) in a {size[0]}×{size[1]} photo"
    return ""
