"""The console's charts: SVG drawn on the server by pygal, inlined in the page.

Server-side SVG needs no JavaScript in the browser (the pages run none), nothing to vendor
or serve, and nothing fetched at run time: pygal's own tooltip script (which it would link
from the web) is switched off and its inline config script removed. Each chart is an
``<svg role="img">`` with a label saying what it shows; the page puts its numbers in a
table beside it for screen readers and for reading without images.
"""

from __future__ import annotations

import math
import sys
import xml.etree.ElementTree as ElementTree
from collections import Counter
from decimal import Decimal
from typing import Any

import pygal
from markupsafe import Markup
from pygal.style import Style

from policy_engine.audit.savings import SavingsReport
from policy_engine.console.overview import SEGMENTS, Overview

# pygal appends to sys.meta_path a finder for its map plugins (pygal.maps.*, unused here)
# that has no find_spec: every import that no other finder resolves then falls back to it
# with an ImportWarning. Taken out again, the rest of the process imports as before.
sys.meta_path[:] = [
    finder for finder in sys.meta_path if type(finder).__module__.split(".")[0] != "pygal"
]

SEGMENT_COLORS = {"on_prem_only": "#b42318", "trusted_hosted": "#b54708", "any": "#067647"}
BAR_COLOR = "#1d4ed8"
BASELINE_COLOR = "#667085"


def _style(*colors: str) -> Style:
    return Style(
        background="transparent",
        plot_background="#ffffff",
        foreground="#1f2933",
        foreground_strong="#101828",
        foreground_subtle="#d0d5dd",
        opacity=".9",
        opacity_hover="1",
        colors=colors or (BAR_COLOR,),
        font_family="system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif",
        label_font_size=12,
        major_label_font_size=12,
        legend_font_size=13,
        value_font_size=12,
        tooltip_font_size=12,
    )


def _options(style: Style, **extra: Any) -> dict[str, Any]:
    return {
        "js": [],  # pygal links its tooltip script from the web by default: nothing fetched
        "disable_xml_declaration": True,
        "style": style,
        "width": 640,
        "height": 320,
        "explicit_size": False,
        "title": None,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 3,
        "print_values": False,
        "margin": 8,
        "no_data_text": "No decisions in this period",
        "truncate_label": 28,
        "truncate_legend": 28,
        "show_y_guides": True,
        "classes": ["pygal-chart", "console-chart"],
        "tooltip_border_radius": 4,
        **extra,
    }


def count_axis(largest: int) -> list[int]:
    """Whole-number ticks from 0 past ``largest`` (counts have no fractions), at most ~9."""
    step = max(1, math.ceil(largest / 8))
    return list(range(0, max(largest, 1) + step, step))


def _inline(chart: Any, label: str) -> Markup:
    """The chart as inline SVG: no script, a title and ``role="img"`` for assistive tech."""
    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for child in list(parent):
            if child.tag in ("script", "{http://www.w3.org/2000/svg}script"):
                parent.remove(child)
    tree.set("role", "img")
    tree.set("aria-label", label)
    tree.set("focusable", "false")
    for old_title in tree.findall("title"):
        tree.remove(old_title)
    title = ElementTree.Element("title")
    title.text = label
    tree.insert(0, title)
    return Markup(ElementTree.tostring(tree, encoding="unicode"))


def segments_over_time(data: Overview) -> Markup:
    labels, series = data.over_time()
    unit = "hour" if data.hourly else "day"
    label = f"Decisions per segment per {unit}"
    chart = pygal.StackedBar(
        **_options(
            _style(*(SEGMENT_COLORS[s] for s in SEGMENTS)),
            x_label_rotation=30 if len(labels) > 8 else 0,
            show_minor_x_labels=len(labels) <= 16,
            x_labels_major_every=max(1, len(labels) // 8),
            y_labels=count_axis(
                max((sum(bucket) for bucket in zip(*series.values(), strict=True)), default=0)
            ),
        )
    )
    chart.x_labels = labels
    for segment in SEGMENTS:
        chart.add(segment, [n or None for n in series[segment]])
    return _inline(chart, label)


def top_counts(label: str, counts: Counter[str], top: int = 10) -> Markup:
    """A horizontal bar per name, the largest count at the top."""
    ranked = counts.most_common(top)
    chart = pygal.HorizontalBar(
        **_options(
            _style(BAR_COLOR),
            show_legend=False,
            height=max(200, 48 + 28 * top),
            y_labels=count_axis(ranked[0][1] if ranked else 0),
        )
    )
    chart.x_labels = [name for name, _ in reversed(ranked)]
    chart.add("decisions", [n for _, n in reversed(ranked)])
    return _inline(chart, label)


def savings_by_segment(report: SavingsReport) -> Markup:
    """Chosen against baseline cost per segment, in USD."""
    label = f"Cost per segment: endpoints chosen against {report.baseline} for everything"
    names = [s for s in SEGMENTS if s in report.by_segment]

    def dollars(amount: Decimal) -> float:
        return float(amount)

    chart = pygal.Bar(
        **_options(
            _style("#067647", BASELINE_COLOR),
            value_formatter=lambda v: f"${v:,.4f}",
            legend_at_bottom_columns=2,
        )
    )
    chart.x_labels = names
    chart.add("chosen", [dollars(report.by_segment[s].chosen_usd) for s in names])
    chart.add(
        f"baseline ({report.baseline})", [dollars(report.by_segment[s].baseline_usd) for s in names]
    )
    return _inline(chart, label)
