"""The day's picture for a team lead: each agent's connect rate against calls made.

Pure: pandas and matplotlib (a Figure on the Agg canvas, no pyplot, no display), no dagster. The top performer and
the agents with calls outside the calling hours are marked; the PNG is kept small so it can
also sit in the asset's metadata as a markdown image.
"""

from __future__ import annotations

import base64
import datetime as dt
import io

import pandas as pd

from callops_dagster.report.message import TopPerformer

SIZE_INCHES = (6.4, 4.0)
DPI = 80  # 512 x 320 px: a few tens of KB


def agent_summary_png(
    summary: pd.DataFrame, compliance: pd.DataFrame, best: TopPerformer | None, day: dt.date
) -> bytes:
    """Connect rate (y, %) against calls made (x), one point per agent-day with calls.

    Red: agents with calls outside the calling hours; a star: the top performer. The bytes
    are deterministic for the same input (no timestamps in the PNG metadata).
    """
    # Imported here, when a picture is drawn: every process loading the definitions (webserver,
    # daemon, sensors, `callops status`) would pay for it otherwise. A Figure drawn on the Agg
    # canvas directly: no pyplot (its import, backend selection and figure registry cost as much
    # as the drawing), no display needed.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    table = summary.loc[summary["total_calls"] > 0, ["org_id", "agent_id", "total_calls", "completed_calls"]]
    outside = compliance.set_index(["org_id", "agent_id"])["calls_outside_hours"]
    table = table.assign(
        rate=100 * table["completed_calls"] / table["total_calls"],
        outside=[int(outside.get((o, a), 0)) > 0 for o, a in zip(table["org_id"], table["agent_id"])],
    )
    figure = Figure(figsize=SIZE_INCHES, dpi=DPI)
    canvas = FigureCanvasAgg(figure)
    axes = figure.subplots()
    within, beyond = table.loc[~table["outside"]], table.loc[table["outside"]]
    if len(within):
        axes.scatter(within["total_calls"], within["rate"], color="#3b6ea5",
                     label=f"all calls within calling hours ({len(within)})")
    if len(beyond):
        axes.scatter(beyond["total_calls"], beyond["rate"], color="#c0392b",
                     label=f"calls outside calling hours ({len(beyond)})")
    if best is not None:
        top = table.loc[(table["org_id"] == best.org_id) & (table["agent_id"] == best.agent_id)]
        axes.scatter(top["total_calls"], top["rate"], marker="*", s=260, color="#f1c40f",
                     edgecolors="black", label=f"top performer ({best.agent_id})", zorder=3)
    axes.set_xlabel("calls made")
    axes.set_ylabel("connect rate (%)")
    # Head room above the highest point for the legend.
    axes.set_ylim(bottom=0, top=min(100.0, float(table["rate"].max()) * 1.3 + 1) if len(table) else 100.0)
    axes.set_title(f"Agents on {day.isoformat()}")
    axes.grid(alpha=0.3)
    if len(table):
        axes.legend(loc="upper right", fontsize="small")
    buffer = io.BytesIO()
    canvas.print_png(buffer, metadata={"Software": None})
    return buffer.getvalue()


def markdown_image(png: bytes, alt: str) -> str:
    """The PNG inline as a markdown image (a data URI), for asset metadata."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"
