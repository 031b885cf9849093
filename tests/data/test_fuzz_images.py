"""Hostile images through decode → transform → predict: a short fuzz run and one test per odd kind.

The full run is ``python bench/fuzz_images.py`` (20,000 inputs).
"""

from __future__ import annotations

import io
import random
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from core.data.images import MAX_PIXELS, ImageError, load_rgb
from core.learning.predict import Predictor
from tools.fuzz import (
    BOMB_KINDS,
    KINDS,
    MUST_PREDICT,
    WEIGHTS,
    SeedCorpus,
    generate_inputs,
    png_bytes,
    png_chunk,
    run_fuzz,
    untrained_checkpoint,
)

PEAK_RSS_LIMIT_MIB = 4096


@pytest.fixture(scope="module")
def predictor(lite0, tmp_path_factory) -> Predictor:
    """A real checkpoint file of an untrained head on efficientnet_lite0: the path matters here, not accuracy."""
    return Predictor(untrained_checkpoint(tmp_path_factory.mktemp("fuzz") / "fuzz.pt"), extractor=lite0)


@pytest.fixture(scope="module")
def seed_images(face_mask_410) -> list:
    return sorted(face_mask_410.rglob("*.jpg"))


@pytest.fixture(scope="module")
def corpus(seed_images) -> SeedCorpus:
    return SeedCorpus(seed_images, max_seeds=8)


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread: by far the fastest for single images on a busy two-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def assert_predicts(predictor: Predictor, data: bytes) -> None:
    result = predictor.predict(data)
    assert result.label in predictor.classes and np.isfinite(result.probability)
    assert len(result.angles) == len(result.expvals) == predictor.checkpoint.spec.n_qubits


# --- the short fuzz run ---------------------------------------------------------------------------------


def test_short_fuzz_run_has_no_unhandled_exception(predictor, seed_images):
    report = run_fuzz(predictor, generate_inputs(400, seed=1, seed_images=seed_images))
    print(report.table())
    assert not report.failures, "\n".join(f"{f.kind}: {f.error}" for f in report.failures[:10])
    assert report.total.count == 400 and report.total.unhandled == 0
    assert set(report.kinds) == set(KINDS), f"kinds that never occurred: {set(KINDS) - set(report.kinds)}"
    for kind, stats in report.kinds.items():
        assert stats.predicted + stats.clean_error == stats.count, kind
        assert all(message.strip() for message in stats.messages), f"{kind}: an empty error message"
    for kind in BOMB_KINDS:
        stats = report.kinds[kind]
        assert stats.clean_error == stats.count, f"{kind}: a decompression bomb was decoded"
        assert all("pixels" in m for m in stats.messages), f"{kind}: {list(stats.messages)}"
    for kind in MUST_PREDICT:
        stats = report.kinds[kind]
        assert stats.predicted == stats.count, f"{kind} is legal and must be predicted: {stats.messages}"
    assert report.kinds["real/jpeg"].predicted > 0 and report.total.predicted > 100
    assert report.peak_rss_mib < PEAK_RSS_LIMIT_MIB, f"peak RSS {report.peak_rss_mib:.0f} MiB"


def test_the_generator_is_reproducible_and_covers_every_kind_each_cycle(seed_images):
    first = [(i.kind, i.data) for i in generate_inputs(120, seed=3, seed_images=seed_images)]
    again = [(i.kind, i.data) for i in generate_inputs(120, seed=3, seed_images=seed_images)]
    assert first == again
    period = sum(WEIGHTS.values())
    assert period <= 120 and {kind for kind, _ in first[:period]} == set(KINDS)


# --- one targeted test per odd kind -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(MUST_PREDICT - {"huge_legal"}))
def test_legal_odd_images_are_predicted(kind, predictor, corpus):
    rng = random.Random(kind)
    for _ in range(3):
        assert_predicts(predictor, KINDS[kind](rng, corpus))


@pytest.mark.parametrize("kind", sorted(BOMB_KINDS))
def test_decompression_bombs_are_refused_for_their_size(kind, predictor, corpus):
    rng = random.Random(kind)
    for _ in range(4):
        with pytest.raises(ImageError, match="pixels"):
            predictor.predict(KINDS[kind](rng, corpus))


def test_png_header_of_100000_squared_is_refused_before_decoding():
    bomb = png_bytes(100_000, 100_000, zlib.compress(b"\x00" * 100))
    with pytest.raises(ImageError, match="pixels") as caught:
        load_rgb(bomb)
    assert "10,000,000,000" in str(caught.value) or "100000×100000" in str(caught.value)


def test_gif_and_bmp_headers_with_huge_dimensions_are_refused():
    gif = b"GIF89a" + struct.pack("<HHBBB", 65535, 65535, 0xF0, 0, 0) + b"\0\0\0\xff\xff\xff"
    gif += b"," + struct.pack("<HHHHB", 0, 0, 65535, 65535, 0) + b"\x02\x02\x4c\x01\x00;"
    info = struct.pack("<IiiHHIIiiII", 40, 100_000, 100_000, 1, 24, 0, 0, 2835, 2835, 0, 0)
    bmp = b"BM" + struct.pack("<IHHI", 54, 0, 0, 54) + info
    for data in (gif, bmp):
        with pytest.raises(ImageError, match="pixels"):
            load_rgb(data)


def test_huge_but_legal_image_is_predicted(predictor):
    side = int(MAX_PIXELS**0.5) - 1
    data = encode(Image.new("L", (side, side), 90), "PNG")
    assert_predicts(predictor, data)


def test_long_thin_image_is_refused_before_the_resize_blows_it_up():
    # 60 KB that Resize(256) would turn into 256 × 5,120,000 pixels (gigabytes)
    for size in ((20_000, 1), (1, 40_000), (3, 20_000)):
        with pytest.raises(ImageError, match="longer than wide"):
            load_rgb(encode(Image.new("L", size, 128), "PNG"))
    assert load_rgb(encode(Image.new("L", (1000, 10), 128), "PNG")).size == (1000, 10)


def test_animated_gif_gives_its_first_frame(predictor):
    frames = [Image.new("RGB", (32, 32), colour) for colour in ("red", "lime", "blue")]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    assert load_rgb(data).getpixel((16, 16)) == (255, 0, 0)
    assert_predicts(predictor, data)
    webp = encode(frames[1], "WEBP", save_all=True, append_images=[frames[2]], lossless=True)
    assert load_rgb(webp).getpixel((16, 16)) == (0, 255, 0)


def test_tiff_pages_and_ico_sizes(predictor):
    pages = [Image.new("RGB", (40, 30), "red"), Image.new("RGB", (10, 10), "blue")]
    tiff = encode(pages[0], "TIFF", save_all=True, append_images=pages[1:], compression="tiff_lzw")
    assert load_rgb(tiff).size == (40, 30)
    ico = encode(Image.new("RGBA", (64, 64), (0, 0, 255, 0)), "ICO", sizes=[(16, 16), (64, 64)])
    assert load_rgb(ico).getpixel((0, 0)) == (255, 255, 255), "transparent ICO composited on white"
    for data in (tiff, ico):
        assert_predicts(predictor, data)


@pytest.mark.parametrize("orientation", [0, 9, 255, 65535])
def test_out_of_range_exif_orientation_is_ignored(orientation, predictor):
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(Image.new("RGB", (40, 20), "blue"), "JPEG", exif=exif)
    assert load_rgb(data).size == (40, 20)
    assert_predicts(predictor, data)


def test_corrupt_exif_blocks_do_not_make_the_image_unusable(predictor):
    jpeg = encode(Image.new("RGB", (30, 20), "green"), "JPEG")
    for block in (b"Exif\0\0" + b"\xde\xad" * 40, b"Exif\0\0II*\0\x08\0\0\0\xff\xff", b"Exif\0\0MM\0*\xff\xff\xff\xff"):
        data = jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(block) + 2) + block + jpeg[2:]
        assert load_rgb(data).size == (30, 20)
        assert_predicts(predictor, data)
    png = encode(Image.new("RGB", (30, 20), "green"), "PNG")
    garbage = png_chunk(b"eXIf", b"garbage!\0\0\0\0")
    assert load_rgb(png[:33] + garbage + png[33:]).size == (30, 20)


def test_sixteen_bit_and_float_images_use_their_range(predictor):
    ramp = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16
    for fmt in ("PNG", "TIFF"):
        rgb = load_rgb(encode(Image.fromarray(ramp), fmt))
        assert rgb.mode == "RGB" and rgb.getextrema()[0] == (0, 255)
    floats = np.linspace(-5, 5, 64 * 64, dtype=np.float32).reshape(64, 64)
    floats[0, :3] = (np.nan, np.inf, -np.inf)
    data = encode(Image.fromarray(floats), "TIFF")
    assert load_rgb(data).getextrema()[0] == (0, 255)
    assert_predicts(predictor, data)
    constant = encode(Image.fromarray(np.full((8, 8), np.nan, dtype=np.float32)), "TIFF")
    assert load_rgb(constant).getextrema()[0] == (0, 0)


def test_cmyk_palette_alpha_la_and_one_bit(predictor):
    cmyk = encode(Image.new("CMYK", (20, 20), (0, 255, 255, 0)), "JPEG")
    assert load_rgb(cmyk).getpixel((10, 10))[0] > 200
    palette = Image.new("P", (8, 8), 1)
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    transparent = encode(palette, "PNG", transparency=1)
    assert load_rgb(transparent).getpixel((0, 0)) == (255, 255, 255)
    la = encode(Image.new("LA", (8, 8), (0, 0)), "PNG")
    assert load_rgb(la).getpixel((0, 0)) == (255, 255, 255)
    one_bit = encode(Image.new("1", (9, 9), 1), "BMP")
    assert load_rgb(one_bit).getpixel((0, 0)) == (255, 255, 255)
    for data in (cmyk, transparent, la, one_bit):
        assert_predicts(predictor, data)


def test_empty_truncated_random_and_foreign_inputs_get_clear_messages(predictor, corpus):
    rng = random.Random(5)
    jpeg = corpus.encoded(rng, "jpeg")
    eps = encode(Image.new("RGB", (8, 8)), "EPS")
    cases = {
        b"": "empty",
        jpeg[: len(jpeg) // 3]: "truncated or corrupt",
        bytes(rng.randrange(256) for _ in range(3000)): "not an image format",
        eps: "not an image format",
        encode(Image.new("RGB", (8, 8)), "PPM"): "not an image format",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>": "not an image format",
    }
    for data, needle in cases.items():
        with pytest.raises(ImageError, match=needle):
            predictor.predict(data)


def test_bombs_are_refused_while_many_threads_decode_at_once():
    """Streamlit decodes each session's upload in its own thread: no per-call warning state to race on."""
    import threading
    import warnings

    inner = png_bytes(7000, 7000, zlib.compress(b"\x00" * 16))  # 49 MP: over the limit, under twice it
    bomb = struct.pack("<HHH", 0, 1, 1) + struct.pack("<BBBBHHII", 0, 0, 0, 0, 1, 32, len(inner), 22) + inner
    good = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(good, format="PNG")
    filters_before = list(warnings.filters)
    outcomes: list[str] = []

    def decode(times: int) -> None:
        for _ in range(times):
            try:
                load_rgb(bomb)
                outcomes.append("bomb decoded")
            except ImageError as exc:
                outcomes.append("refused" if "too many pixels" in str(exc) else f"other: {exc}")
            outcomes.append("ok" if load_rgb(good.getvalue()).size == (64, 48) else "bad size")

    threads = [threading.Thread(target=decode, args=(25,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(set(outcomes)) == ["ok", "refused"] and len(outcomes) == 400, set(outcomes)
    assert warnings.filters == filters_before
