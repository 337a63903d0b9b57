"""The day's picture for a team lead: each agent's connect rate against calls made.

Pure: pandas and Pillow, no dagster. The top performer and the agents with calls outside the
calling hours are marked; the PNG is kept small so it can also sit in the asset's metadata as a
markdown image.

Drawn with Pillow's ImageDraw and the font Pillow ships (issue 23): matplotlib's import and
figure machinery were a second of every day's run (1.10 s of the brief's 5.6 s day, profiled),
for a scatter plot with two axes. The plot is drawn at twice its size and scaled down, which
smooths its edges; the bytes are the same for the same input (Pillow writes no time into a PNG).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import math
from dataclasses import dataclass

import pandas as pd

from callops_dagster.report.message import TopPerformer

WIDTH, HEIGHT = 512, 320  # a few tens of KB
SCALE = 2  # drawn at twice the size, then scaled down (anti-aliasing)
# The plot area inside the picture (left, top, right, bottom), in final pixels.
PLOT = (62, 30, 496, 272)
WITHIN, OUTSIDE, STAR = (59, 110, 165), (192, 57, 43), (241, 196, 15)
INK, GRID, FRAME = (0, 0, 0), (230, 230, 230), (60, 60, 60)


@dataclass(frozen=True)
class Axis:
    """A linear axis from ``low`` to ``high`` onto pixels ``start`` to ``end``."""

    low: float
    high: float
    start: float
    end: float

    def at(self, value: float) -> float:
        span = self.high - self.low or 1.0
        return self.start + (value - self.low) / span * (self.end - self.start)


def nice_ticks(low: float, high: float, most: int = 8) -> list[float]:
    """Round tick values inside ``[low, high]``: steps of 1, 2, 2.5 or 5 times a power of ten,
    the smallest giving at most ``most`` ticks."""
    span = high - low
    if span <= 0:
        return [low]
    power = 10 ** math.floor(math.log10(span / most))
    step = next(m * power for m in (1, 2, 2.5, 5, 10, 20) if span / (m * power) <= most)
    first = math.ceil(low / step - 1e-9) * step
    return [round(first + i * step, 10) for i in range(int((high - first) / step + 1e-9) + 1)]


def tick_label(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def _star(x: float, y: float, radius: float) -> list[tuple[float, float]]:
    """A five-pointed star's outline around ``(x, y)``, first point up."""
    points = []
    for i in range(10):
        r = radius if i % 2 == 0 else radius * 0.4
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((x + r * math.cos(angle), y + r * math.sin(angle)))
    return points


def agent_summary_png(
    summary: pd.DataFrame, compliance: pd.DataFrame, best: TopPerformer | None, day: dt.date
) -> bytes:
    """Connect rate (y, %) against calls made (x), one point per agent-day with calls.

    Red: agents with calls outside the calling hours; a star: the top performer. The bytes
    are deterministic for the same input (no timestamps in the PNG).
    """
    # Imported here, when a picture is drawn: the webserver, the daemon and `callops status`
    # load the definitions without ever drawing one.
    from PIL import Image, ImageDraw, ImageFont

    table = summary.loc[summary["total_calls"] > 0, ["org_id", "agent_id", "total_calls", "completed_calls"]]
    outside = compliance.set_index(["org_id", "agent_id"])["calls_outside_hours"]
    table = table.assign(
        rate=100 * table["completed_calls"] / table["total_calls"],
        outside=[int(outside.get((o, a), 0)) > 0 for o, a in zip(table["org_id"], table["agent_id"])],
    )

    s = SCALE
    image = Image.new("RGB", (WIDTH * s, HEIGHT * s), "white")
    draw = ImageDraw.Draw(image)
    font, small = ImageFont.load_default(size=11 * s), ImageFont.load_default(size=9 * s)
    left, top, right, bottom = (v * s for v in PLOT)

    # Axes: calls with 5% margins either side; the rate from 0, with head room for the legend.
    calls = table["total_calls"].astype(float)
    low, high = (float(calls.min()), float(calls.max())) if len(table) else (0.0, 1.0)
    pad = (high - low) * 0.05 or 1.0
    x = Axis(low - pad, high + pad, left, right)
    y_top = min(100.0, float(table["rate"].max()) * 1.3 + 1) if len(table) else 100.0
    y = Axis(0.0, y_top, bottom, top)

    for value in nice_ticks(x.low, x.high):
        px = x.at(value)
        draw.line([(px, top), (px, bottom)], fill=GRID, width=s)
        draw.line([(px, bottom), (px, bottom + 4 * s)], fill=FRAME, width=s)
        draw.text((px, bottom + 6 * s), tick_label(value), fill=INK, font=small, anchor="mt")
    for value in nice_ticks(y.low, y.high):
        py = y.at(value)
        draw.line([(left, py), (right, py)], fill=GRID, width=s)
        draw.line([(left - 4 * s, py), (left, py)], fill=FRAME, width=s)
        draw.text((left - 6 * s, py), tick_label(value), fill=INK, font=small, anchor="rm")
    draw.rectangle([left, top, right, bottom], outline=FRAME, width=s)

    legend: list[tuple[str, tuple[int, int, int]]] = []
    for rows, colour, text in ((table.loc[~table["outside"]], WITHIN, "all calls within calling hours"),
                               (table.loc[table["outside"]], OUTSIDE, "calls outside calling hours")):
        if len(rows):
            legend.append((f"{text} ({len(rows)})", colour))
        for calls_made, rate in zip(rows["total_calls"], rows["rate"]):
            cx, cy, r = x.at(float(calls_made)), y.at(float(rate)), 3.5 * s
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
    if best is not None:
        mark = table.loc[(table["org_id"] == best.org_id) & (table["agent_id"] == best.agent_id)]
        for calls_made, rate in zip(mark["total_calls"], mark["rate"]):
            draw.polygon(_star(x.at(float(calls_made)), y.at(float(rate)), 10 * s), fill=STAR, outline=INK, width=s)
        legend.append((f"top performer ({best.agent_id})", STAR))

    if legend:  # upper right, inside the plot
        row, width = 16 * s, max(draw.textlength(text, font=small) for text, _ in legend) + 30 * s
        box = (right - width - 8 * s, top + 8 * s, right - 8 * s, top + 8 * s + row * len(legend) + 6 * s)
        draw.rectangle(box, fill="white", outline=(200, 200, 200), width=s)
        for i, (text, colour) in enumerate(legend):
            cx, cy = box[0] + 12 * s, box[1] + 3 * s + row * i + row / 2
            if colour == STAR:
                draw.polygon(_star(cx, cy, 7 * s), fill=STAR, outline=INK, width=s)
            else:
                draw.ellipse([cx - 3.5 * s, cy - 3.5 * s, cx + 3.5 * s, cy + 3.5 * s], fill=colour)
            draw.text((cx + 12 * s, cy), text, fill=INK, font=small, anchor="lm")

    draw.text(((left + right) / 2, top - 8 * s), f"Agents on {day.isoformat()}", fill=INK, font=font, anchor="ms")
    draw.text(((left + right) / 2, HEIGHT * s - 6 * s), "calls made", fill=INK, font=font, anchor="md")
    label = Image.new("RGB", (int(draw.textlength("connect rate (%)", font=font)) + 4 * s, 16 * s), "white")
    ImageDraw.Draw(label).text((2 * s, 8 * s), "connect rate (%)", fill=INK, font=font, anchor="lm")
    label = label.rotate(90, expand=True)
    image.paste(label, (4 * s, int((top + bottom) / 2 - label.height / 2)))

    buffer = io.BytesIO()
    image.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS).save(buffer, format="PNG")
    return buffer.getvalue()


def markdown_image(png: bytes, alt: str) -> str:
    """The PNG inline as a markdown image (a data URI), for asset metadata."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"
