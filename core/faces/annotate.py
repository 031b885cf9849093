"""A copy of the photo with a box and a label on each face: green for mask, red for no mask."""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

COLOURS = {"mask": (44, 160, 44), "no_mask": (214, 39, 40)}


def annotate(photo: Image.Image, faces: Sequence[tuple[tuple[int, int, int, int], str, float]],
             max_side: int | None = None) -> Image.Image:
    """``photo`` with ``(box, label, probability)`` drawn for each face, scaled to at most ``max_side`` pixels."""
    image = photo.convert("RGB")
    scale = 1.0
    if max_side and max(image.size) > max_side:
        scale = max_side / max(image.size)
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.Resampling.LANCZOS)
    else:
        image = image.copy()
    draw = ImageDraw.Draw(image)
    line = max(2, round(max(image.size) / 300))
    font = ImageFont.load_default(size=max(12, round(max(image.size) / 45)))
    for number, (box, label, probability) in enumerate(faces, 1):
        x0, y0, x1, y1 = (round(v * scale) for v in box)
        colour = COLOURS.get(label, (31, 119, 180))
        draw.rectangle((x0, y0, x1, y1), outline=colour, width=line)
        text = f"{number}: {label.replace('_', ' ')} {probability:.0%}"
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        width, height = right - left + 2 * line, bottom - top + 2 * line
        ty = y0 - height if y0 - height >= 0 else min(y1, image.height - height)  # above the box, else below
        tx = min(max(0, x0), max(0, image.width - width))
        draw.rectangle((tx, ty, tx + width, ty + height), fill=colour)
        draw.text((tx + line - left, ty + line - top), text, fill="white", font=font)
    return image
