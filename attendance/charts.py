"""Draws report charts as inline SVG with pygal.

pygal is a maintained charting library that writes plain SVG: no
JavaScript, no network, and WeasyPrint can lay the same markup out in a
PDF. Each SVG carries ``role="img"`` and a ``<title>`` and ``<desc>`` for
screen readers; every chart sits next to a table of the same numbers.
"""

import math

import pygal
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from pygal.style import Style

from .reports import Chart

#: Okabe-Ito colours, told apart with colour-vision deficiencies; the
#: yellow is left out because it is too light on white.
COLOURS = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#000000",
    "#999999",
)
FONT = '"DejaVu Sans", "Helvetica Neue", Arial, sans-serif'
#: X labels shown before they are thinned out to every n-th.
MAX_X_LABELS = 14

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1a1a1a",
    foreground_strong="#000000",
    foreground_subtle="#6b6b6b",
    colors=COLOURS,
    font_family=FONT,
    label_font_family=FONT,
    major_label_font_family=FONT,
    value_font_family=FONT,
    value_label_font_family=FONT,
    tooltip_font_family=FONT,
    title_font_family=FONT,
    legend_font_family=FONT,
    no_data_font_family=FONT,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    title_font_size=15,
    no_data_font_size=20,
    guide_stroke_color="#bdbdbd",
    guide_stroke_dasharray="3,3",
    major_guide_stroke_color="#9e9e9e",
    major_guide_stroke_dasharray="3,3",
    stroke_width="3",
    stroke_width_hover="3",
    opacity=".9",
    opacity_hover="1",
    transition="0ms",
)

CHART_CLASSES = {
    "bar": pygal.Bar,
    "horizontal_bar": pygal.HorizontalBar,
    "line": pygal.Line,
}


def _format_value(chart: Chart):
    def formatter(value):
        if value is None:
            return ""
        if chart.percent:
            return f"{value:.1f}%"
        if isinstance(value, float) and not value.is_integer():
            return f"{value:.1f}"
        return f"{value:,.0f}"

    return formatter


def _height(chart: Chart, width: int, height: int | None) -> int:
    """``height``, or a height in proportion to the width; horizontal bar
    charts grow so every bar keeps room for its label."""
    if chart.kind == "horizontal_bar":
        bars = max(len(chart.x_labels), 1) * max(len(chart.series), 1)
        return max(200, 60 + 34 * bars)
    return height or max(300, width * 9 // 20)


def value_ticks(chart: Chart) -> list:
    """Whole-number ticks for counts (no "1.6 people"), 0 to 100 for
    percentages."""
    if chart.percent:
        return list(range(0, 101, 20))
    top = max((v for s in chart.series for v in s.values if v is not None), default=0)
    step = 1
    for candidate in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        step = candidate
        if top / candidate <= 6:
            break
    else:
        step = 10 ** math.ceil(math.log10(max(top, 1) / 6))
    return list(range(0, (math.ceil(top / step) or 1) * step + 1, step))


def render_svg(
    chart: Chart, *, chart_id: str, width: int = 760, height: int | None = None
) -> SafeString:
    """The chart as an SVG element to put inline in HTML.

    ``chart_id`` makes the title and description ids unique on the page.
    Horizontal bars are listed top to bottom in table order.
    """
    chart_class = CHART_CLASSES[chart.kind]
    labels = list(chart.x_labels)
    series = [(s.name, list(s.values)) for s in chart.series]
    horizontal = chart.kind == "horizontal_bar"
    if horizontal:  # pygal draws the first bar at the bottom
        labels.reverse()
        for _name, values in series:
            values.reverse()
    many_labels = len(labels) > MAX_X_LABELS
    crowded = not horizontal and sum(len(label) for label in labels) * 8 > width * 0.8
    config = {
        "style": STYLE,
        "width": width,
        "height": _height(chart, width, height),
        "js": [],
        "disable_xml_declaration": True,
        "show_legend": len(series) > 1,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": min(len(series), 3) or 1,
        "truncate_legend": 40,
        "truncate_label": 40,
        "x_title": chart.x_title or None,
        "y_title": chart.y_title or None,
        "value_formatter": _format_value(chart),
        "no_data_text": _("Nothing to show for this range"),
        "print_values": chart.kind != "line" and len(labels) <= 12,
        "print_zeroes": True,
        "include_x_axis": True,
        "allow_interruptions": True,
        "dots_size": 4,
        "margin": 12,
        "margin_right": 24,
        "x_label_rotation": 35 if crowded else 0,
    }
    if any(v is not None for _name, values in series for v in values):
        # pygal fails on explicit labels when there is nothing to draw
        config["y_labels"] = value_ticks(chart)
    if many_labels and not horizontal:
        config["show_minor_x_labels"] = False
        config["x_labels_major_every"] = math.ceil(len(labels) / MAX_X_LABELS)
    drawing = chart_class(**config)
    drawing.x_labels = labels
    for name, values in series:
        drawing.add(name, values)
    drawing.add_xml_filter(_accessible(chart, chart_id))
    return mark_safe(drawing.render(is_unicode=True))  # noqa: S308 (pygal escapes)


def _accessible(chart: Chart, chart_id: str):
    """An XML filter for pygal: drop its <script> (tooltip configuration,
    useless without its JavaScript) and name the chart for screen readers
    with role="img", a <title> and a <desc>."""

    def apply(root):
        for parent in list(root.iter()):
            for child in list(parent):
                if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == (
                    "script"
                ):
                    parent.remove(child)
        title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
        root.set("role", "img")
        root.set("aria-labelledby", f"{title_id} {desc_id}")
        title = root.makeelement("title", {"id": title_id})
        title.text = chart.title
        desc = root.makeelement("desc", {"id": desc_id})
        desc.text = chart.description
        root.insert(0, desc)
        root.insert(0, title)
        return root

    return apply
