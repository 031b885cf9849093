"""Synthetic group photos with known faces: data-set face images pasted onto backgrounds that hold no face.

Used by the scene benchmark (``bench/bench_faces.py``), the tests and the
browser test. Everything is seeded: the same seed gives the same scenes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from core.data.dataset import CLASSES, IMAGE_SUFFIXES
from core.data.images import load_rgb
from core.faces.boxes import Box, intersection, iou

# scikit-image's sample pictures without a face (astronaut, camera and lfw_subset have faces; these do not)
SKIMAGE_BACKGROUNDS = ("rocket", "coffee", "chelsea", "brick", "grass", "gravel", "colorwheel", "immunohistochemistry",
                       "hubble_deep_field", "moon", "page", "horse", "clock", "coins", "text", "cell", "retina",
                       "stereo_motorcycle")
GENERATED_BACKGROUNDS = ("noise", "gradient", "shapes")
NO_FACE_CHECKS = ("coffee", "chelsea", "rocket")  # must give no face at all
SIZES = ((1280, 720), (1280, 720), (960, 720), (720, 960))  # mostly landscape, some phone portraits


@dataclass(frozen=True)
class PlacedFace:
    box: Box  # where the face image was pasted: the ground truth
    label: int  # index into CLASSES
    source: Path


@dataclass
class Scene:
    image: Image.Image
    faces: list[PlacedFace]
    background: str


def face_pool(folder: str | Path, exclude: set[Path] | None = None) -> dict[int, list[Path]]:
    """The face images of a ``<class>/<file>`` folder (face-mask-pool's layout), by label, sorted."""
    folder = Path(folder)
    pool = {}
    for label, name in enumerate(CLASSES):
        files = sorted(p for p in (folder / name).glob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        pool[label] = [p for p in files if not exclude or p not in exclude]
    return pool


@cache
def skimage_picture(name: str) -> Image.Image:
    """A scikit-image sample picture as RGB."""
    from skimage import data

    array = getattr(data, name)()
    if isinstance(array, tuple):  # stereo_motorcycle: (left, right, disparity)
        array = array[0]
    if array.ndim == 3 and array.shape[2] == 4:
        array = array[..., :3]
    return Image.fromarray(np.asarray(array)).convert("RGB")


def background(name: str, size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A picture without faces, ``size`` pixels: a scikit-image sample scaled to cover it, or a generated one."""
    if name in SKIMAGE_BACKGROUNDS:
        return _cover(skimage_picture(name), size, rng)
    width, height = size
    np_rng = np.random.default_rng(rng.randrange(2**32))
    if name == "noise":
        small = np_rng.integers(0, 256, (height // 16 + 1, width // 16 + 1, 3), dtype=np.uint8)
        return Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)
    if name == "gradient":
        a, b = np_rng.integers(0, 256, 3), np_rng.integers(0, 256, 3)
        t = np.linspace(0, 1, width)[None, :, None]
        return Image.fromarray(np.broadcast_to(a + (b - a) * t, (height, width, 3)).astype(np.uint8))
    image = Image.new("RGB", size, tuple(int(v) for v in np_rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(5, 15)):
        x, y = rng.randrange(width), rng.randrange(height)
        w, h = rng.randint(20, width // 3), rng.randint(20, height // 3)
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x, y, x + w, y + h), fill=tuple(rng.randrange(256) for _ in range(3)))
    return image


def _cover(picture: Image.Image, size: tuple[int, int], rng: random.Random) -> Image.Image:
    scale = max(size[0] / picture.width, size[1] / picture.height)
    scaled = picture.resize((max(size[0], round(picture.width * scale)), max(size[1], round(picture.height * scale))),
                            Image.Resampling.BICUBIC)
    x, y = rng.randint(0, scaled.width - size[0]), rng.randint(0, scaled.height - size[1])
    return scaled.crop((x, y, x + size[0], y + size[1]))


def make_scene(rng: random.Random, pool: dict[int, list[Path]], faces: int, size: tuple[int, int],
               backdrop: str, heights: tuple[int, int] = (60, 400)) -> Scene:
    """``faces`` face images of random class, height and place (not overlapping) on ``backdrop``."""
    image = background(backdrop, size, rng)
    placed: list[PlacedFace] = []
    for _ in range(faces):
        label = rng.randrange(len(CLASSES))
        source = rng.choice(pool[label])
        face = load_rgb(source)
        for _attempt in range(50):
            height = rng.randint(heights[0], min(heights[1], size[1] - 1))
            width = max(1, round(face.width * height / face.height))
            if width >= size[0]:
                continue
            x, y = rng.randrange(size[0] - width), rng.randrange(size[1] - height)
            box = Box(x, y, x + width, y + height)
            gap = 0.15 * max(width, height)  # keep faces apart, as people in a photo are
            if all(_apart(box, other.box, gap) for other in placed):
                image.paste(face.resize((width, height), Image.Resampling.BICUBIC), (x, y))
                placed.append(PlacedFace(box, label, source))
                break
    return Scene(image, placed, backdrop)


def _apart(a: Box, b: Box, gap: float) -> bool:
    return a.x1 + gap <= b.x0 or b.x1 + gap <= a.x0 or a.y1 + gap <= b.y0 or b.y1 + gap <= a.y0


def scenes(count: int, seed: int, pool: dict[int, list[Path]], max_faces: int = 4,
           backdrops: Sequence[str] = SKIMAGE_BACKGROUNDS + GENERATED_BACKGROUNDS) -> Iterator[Scene]:
    """``count`` seeded scenes with 1..``max_faces`` faces each, cycling through the backdrops."""
    rng = random.Random(seed)
    for i in range(count):
        yield make_scene(rng, pool, rng.randint(1, max_faces), rng.choice(SIZES), backdrops[i % len(backdrops)])


def _thumbnail(path: Path, side: int = 8) -> Image.Image:
    with Image.open(path) as image:
        image.draft("L", (side * 4, side * 4))
        return image.convert("L").resize((side, side), Image.Resampling.BOX)


def average_hash(thumbnail: Image.Image) -> np.uint64:
    """A 64-bit perceptual hash of an 8×8 grey thumbnail: which pixels are brighter than its mean."""
    pixels = np.asarray(thumbnail, dtype=np.float32).ravel()
    return np.packbits(pixels > pixels.mean()).view(">u8")[0].astype(np.uint64)


def near_duplicates(candidates: Sequence[Path], references: Sequence[Path], max_distance: int = 6) -> set[Path]:
    """The candidates whose picture, or its mirror image, is within ``max_distance`` hash bits of a reference.

    Catches copies, resized and mirrored siblings (the pool's "copy N" and augmented files), not crops or rotations.
    """
    known = np.array([average_hash(_thumbnail(p)) for p in references], dtype=np.uint64)
    found = set()
    for path in candidates:
        thumbnail = _thumbnail(path)
        for picture in (thumbnail, thumbnail.transpose(Image.Transpose.FLIP_LEFT_RIGHT)):
            differing = np.unpackbits((known ^ average_hash(picture)).view(np.uint8)).reshape(len(known), 64).sum(axis=1)
            if len(known) and differing.min() <= max_distance:
                found.add(path)
                break
    return found


def match(truth: Sequence[Box], found: Sequence[Box], framed: Sequence[Box] = (), threshold: float = 0.4,
          inside: bool = False) -> tuple[dict[int, int], list[int]]:
    """Pair found boxes with true ones (the pasted pictures), best overlap first.

    A pair needs IoU ≥ ``threshold`` between the picture and the found box or, given ``framed`` (each
    found box's crop region), its region. With ``inside`` a found box also pairs when ≥ 70 % of it lies
    in the picture and its side is ≥ 0.3 of the picture's: the pictures range from a tight face to a
    face with shoulders, and the detector boxes the face. Returns ({truth: found}, found boxes unpaired).
    """

    def overlap(t: Box, j: int) -> float:
        best = max(iou(t, found[j]), iou(t, framed[j]) if framed else 0.0)
        if best < threshold and inside and _inside(found[j], t):
            return threshold  # paired, after every pair by IoU
        return best

    pairs = sorted(((overlap(t, j), i, j) for i, t in enumerate(truth) for j in range(len(found))), reverse=True)
    matched: dict[int, int] = {}
    used: set[int] = set()
    for value, i, j in pairs:
        if value >= threshold and i not in matched and j not in used:
            matched[i] = j
            used.add(j)
    return matched, [j for j in range(len(found)) if j not in used]


def _inside(face: Box, picture: Box) -> bool:
    large_enough = max(face.width, face.height) >= 0.3 * max(picture.width, picture.height)
    return intersection(face, picture) >= 0.7 * face.area and large_enough
