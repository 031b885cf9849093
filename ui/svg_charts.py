"""Line charts and heatmaps as plain SVG strings for ``st.image`` (with ``alt`` text from the same numbers).

A chart library (Vega-Lite, Plotly) costs a phone's browser hundreds of milliseconds of main-thread work per
chart, several seconds on a page of charts (bench/bench_lighthouse.py); an SVG image costs it next to nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

import numpy as np

HEAD = ('<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif">'
        "<title>{title}</title>")


@dataclass(frozen=True)
class Line:
    """One series: ``y`` per ``x``, an optional band (``low``..``high``); ``dash`` an SVG stroke-dasharray ("" solid)."""

    name: str
    colour: str
    x: list[float]
    y: list[float]
    low: list[float] | None = None
    high: list[float] | None = None
    dash: str = ""
    dots: bool = False  # a dot at every point (a line of one point is then a single dot)


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering [low, high]."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / (count - 1)
    step = 10 ** math.floor(math.log10(raw))
    step *= next(m for m in (1, 2, 2.5, 5, 10) if m * step >= raw)
    start = math.floor(low / step) * step
    return [start + i * step for i in range(int(math.ceil((high - start) / step - 1e-9)) + 1)]


def _text(x: float, y: float, text: str, size: int = 11, anchor: str = "middle", extra: str = "", colour: str = "#333") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{colour}"{extra}>{escape(text)}</text>'


def lines_svg(lines: list[Line], title: str, x_title: str, y_title: str, width: int = 520, plot_h: int = 220,
              y_range: tuple[float, float] | None = None) -> str:
    """Lines (with their bands) on shared axes, a legend below, one row per series; ``y_range`` fixes the y axis."""
    if not lines:
        raise ValueError("lines_svg needs at least one line")
    left, top, right = 56, 30, 12
    plot_w = width - left - right
    height = top + plot_h + 44 + 16 * len(lines)
    xs = [x for line in lines for x in line.x]
    ys = [v for line in lines for v in (*line.y, *(line.low or []), *(line.high or []))]
    x_ticks, y_ticks = _ticks(min(xs), max(xs)), _ticks(*(y_range or (min(ys), max(ys))))
    x0, x1, y0, y1 = x_ticks[0], x_ticks[-1], y_ticks[0], y_ticks[-1]

    def px(x: float) -> float:
        return left + plot_w * (x - x0) / (x1 - x0)

    def py(y: float) -> float:
        return top + plot_h * (1 - (y - y0) / (y1 - y0))

    parts = [HEAD.format(w=width, h=height, title=escape(title)), _text(left, 16, title, 13, "start", colour="#222")]
    for t in y_ticks:
        parts += [f'<line x1="{left}" y1="{py(t):.1f}" x2="{left + plot_w}" y2="{py(t):.1f}" stroke="#e3e3e3"/>',
                  _text(left - 5, py(t) + 4, f"{t:.3g}", 10, "end")]
    for t in x_ticks:
        parts.append(_text(px(t), top + plot_h + 14, f"{t:g}", 10))
    parts += [_text(left + plot_w / 2, top + plot_h + 30, x_title, 11),
              _text(14, top + plot_h / 2, y_title, 11, extra=f' transform="rotate(-90 14 {top + plot_h / 2:.1f})"')]
    for line in lines:
        if line.low is not None and line.high is not None:
            band = [(px(x), py(v)) for x, v in zip(line.x, line.high)] + [(px(x), py(v)) for x, v in
                                                                         reversed(list(zip(line.x, line.low)))]
            parts.append(f'<polygon points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in band)}" fill="{line.colour}" '
                         'fill-opacity="0.15"/>')
    for line in lines:
        dash = f' stroke-dasharray="{line.dash}"' if line.dash else ""
        points = " ".join(f"{px(x):.1f},{py(v):.1f}" for x, v in zip(line.x, line.y))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{line.colour}" stroke-width="1.8"{dash}/>')
        if line.dots:
            parts += [f'<circle cx="{px(x):.1f}" cy="{py(v):.1f}" r="5" fill="{line.colour}"/>' for x, v in zip(line.x, line.y)]
    for i, line in enumerate(lines):
        y = top + plot_h + 48 + 16 * i
        dash = f' stroke-dasharray="{line.dash}"' if line.dash else ""
        parts += [f'<line x1="{left}" y1="{y - 4}" x2="{left + 22}" y2="{y - 4}" stroke="{line.colour}" stroke-width="2"{dash}/>',
                  _text(left + 28, y, line.name, 11, "start")]
    parts.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#888"/></svg>')
    return "".join(parts)


def lines_alt(lines: list[Line], title: str, x_title: str, y_title: str, digits: int = 3) -> str:
    """The lines in words: each series' value at its last point."""
    last = "; ".join(f"{line.name}: {line.y[-1]:.{digits}f} at {x_title} {line.x[-1]:g}" for line in lines if line.y)
    return f"Line chart, {title}: {y_title} per {x_title}. Last values — {last}."


def _mix(colour: str, share: float) -> str:
    """``colour`` mixed with white: ``share`` 0 is white, 1 the colour itself."""
    rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 + (c - 255) * share):02x}" for c in rgb)


def heatmap_svg(rows: list[dict], value: str, title: str, number_format: str, colour: str, width: int = 420) -> str:
    """A grid study's ``value`` per cell (rows of :func:`core.results.comparison.grid_studies`), each cell labelled."""
    if not rows:
        raise ValueError("heatmap_svg needs at least one cell")
    row_keys = sorted({r["row"] for r in rows}, key=_order, reverse=True)
    column_keys = sorted({r["column"] for r in rows}, key=_order)
    cells = {(r["row"], r["column"]): r[value] for r in rows}
    low, high = min(cells.values()), max(cells.values())
    left, top, cell_h = 60, 30, 36
    cell_w = (width - left - 10) / len(column_keys)
    height = top + cell_h * len(row_keys) + 40
    parts = [HEAD.format(w=width, h=height, title=escape(title)), _text(left, 16, title, 13, "start", colour="#222")]
    for i, row in enumerate(row_keys):
        parts.append(_text(left - 8, top + (i + 0.5) * cell_h + 4, str(row), 11, "end"))
        for j, column in enumerate(column_keys):
            if (row, column) not in cells:
                continue
            v = cells[(row, column)]
            share = 0.15 + 0.85 * ((v - low) / (high - low) if high > low else 1.0)
            x, y = left + j * cell_w, top + i * cell_h
            parts += [f'<rect x="{x:.1f}" y="{y}" width="{cell_w:.1f}" height="{cell_h}" fill="{_mix(colour, share)}" '
                      'stroke="white"/>',
                      _text(x + cell_w / 2, y + cell_h / 2 + 4, format(v, number_format), 12,
                            colour="white" if share > 0.6 else "#111")]
    for j, column in enumerate(column_keys):
        parts.append(_text(left + (j + 0.5) * cell_w, top + len(row_keys) * cell_h + 14, str(column), 11))
    first = rows[0]
    parts += [_text(left + (width - left) / 2, height - 6, first["column_name"], 11),
              _text(12, top + len(row_keys) * cell_h / 2, first["row_name"], 11,
                    extra=f' transform="rotate(-90 12 {top + len(row_keys) * cell_h / 2:.1f})"'), "</svg>"]
    return "".join(parts)


def heatmap_alt(rows: list[dict], value: str, title: str, number_format: str) -> str:
    """Every cell of the heatmap in words."""
    row_name, column_name = rows[0]["row_name"], rows[0]["column_name"]
    cells = ", ".join(f"{row_name} {r['row']} and {column_name} {r['column']}: {format(r[value], number_format)}"
                      for r in sorted(rows, key=lambda r: (_order(r["row"]), _order(r["column"]))))
    return f"Heatmap, {title}. {cells}."


def _order(key):
    """Numbers in numeric order, then anything else as text."""
    return (0, float(key), "") if isinstance(key, (int, float, np.integer, np.floating)) else (1, 0.0, str(key))


def bars_svg(labels: list[str], values: list[float], colours: list[str], title: str, y_title: str,
             legend: list[tuple[str, str]] = (), width: int = 640, plot_h: int = 200) -> str:
    """One bar per label, each in its own colour, and a legend of (name, colour) below."""
    if not labels or not len(labels) == len(values) == len(colours):
        raise ValueError("bars_svg needs as many values and colours as labels, and at least one")
    left, top = 52, 30
    plot_w, turned = width - left - 12, max(len(label) for label in labels) * len(labels) > 90
    height = top + plot_h + (58 if turned else 34) + 16 * bool(legend)
    y_ticks = _ticks(0.0, max(max(values), 1e-9))
    y1, group = y_ticks[-1], plot_w / len(labels)

    def py(v: float) -> float:
        return top + plot_h * (1 - v / y1)

    parts = [HEAD.format(w=width, h=height, title=escape(title)), _text(left, 16, title, 13, "start", colour="#222"),
             _text(14, top + plot_h / 2, y_title, 11, extra=f' transform="rotate(-90 14 {top + plot_h / 2:.1f})"')]
    for t in y_ticks:
        parts += [f'<line x1="{left}" y1="{py(t):.1f}" x2="{left + plot_w}" y2="{py(t):.1f}" stroke="#e3e3e3"/>',
                  _text(left - 5, py(t) + 4, f"{t:.3g}", 10, "end")]
    every = max(1, len(labels) // 32)
    for i, (label, v, colour) in enumerate(zip(labels, values, colours)):
        x = left + i * group
        parts.append(f'<rect x="{x + group * 0.1:.1f}" y="{py(v):.1f}" width="{group * 0.8:.1f}" '
                     f'height="{top + plot_h - py(v):.1f}" fill="{colour}"/>')
        if i % every == 0:
            cx, base = x + group / 2, top + plot_h + 14
            turn = f' transform="rotate(-90 {cx:.1f} {base + 18:.1f})"' if turned else ""
            parts.append(_text(cx, base + (18 if turned else 0), label, 10, extra=turn))
    for i, (name, colour) in enumerate(legend):
        x, y = left + i * 170, height - 8
        parts += [f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour}"/>', _text(x + 14, y, name, 11, "start")]
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#444"/></svg>')
    return "".join(parts)
