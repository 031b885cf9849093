"""Face boxes: pixel rectangles, their overlap and non-maximum suppression."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Box:
    """A rectangle in pixels: left, top (inclusive), right, bottom (exclusive)."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return max(0.0, self.x1 - self.x0)

    @property
    def height(self) -> float:
        return max(0.0, self.y1 - self.y0)

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2

    def as_ints(self) -> tuple[int, int, int, int]:
        return round(self.x0), round(self.y0), round(self.x1), round(self.y1)

    def clipped(self, width: int, height: int) -> Box:
        """The part of the box inside a ``width`` × ``height`` image."""
        return Box(min(max(self.x0, 0), width), min(max(self.y0, 0), height), min(max(self.x1, 0), width),
                   min(max(self.y1, 0), height))


def intersection(a: Box, b: Box) -> float:
    """The area two boxes share (0 when they do not overlap)."""
    return Box(max(a.x0, b.x0), max(a.y0, b.y0), min(a.x1, b.x1), min(a.y1, b.y1)).area


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 when they do not overlap)."""
    inter = intersection(a, b)
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0


def overlap_of_smaller(a: Box, b: Box) -> float:
    """How much of the smaller box lies inside the other: 1 when one contains the other."""
    inter = intersection(a, b)
    smaller = min(a.area, b.area)
    return inter / smaller if smaller > 0 else 0.0


def non_maximum_suppression(boxes: Sequence[Box], scores: Sequence[float], threshold: float = 0.3,
                            containment: float = 0.8) -> list[int]:
    """Indices of the boxes to keep, best score first.

    A box is dropped when it overlaps a kept one by more than ``threshold`` IoU, or when
    ``containment`` of the smaller of the two lies inside the other (a face found twice,
    once tight and once with the forehead and chin).
    """
    order = sorted(range(len(boxes)), key=lambda i: -scores[i])
    kept: list[int] = []
    for i in order:
        if all(iou(boxes[i], boxes[k]) <= threshold and overlap_of_smaller(boxes[i], boxes[k]) < containment for k in kept):
            kept.append(i)
    return kept
