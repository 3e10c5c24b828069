"""Charts drawn on the server as inline SVG: no script, no chart library, nothing fetched.

Each chart is an <svg role="img"> with a <title> and a <desc> that states its figures in
words, so a screen reader hears what a sighted reader sees; the page puts the full table of
figures under each chart too. Colours are attributes (no inline style), so a strict
Content-Security-Policy does not block them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import count

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH = 600
HEIGHT = 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 28
PALETTE = ("#6d4cff", "#1f9d63", "#d6334a", "#c98a00", "#ff5c8d", "#3b82f6")

_ids = count(1)


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float]


def _number(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _nice_ceiling(value: float) -> float:
    """The top of the vertical axis: 1, 2 or 5 times a power of ten, at least `value`."""
    if value <= 0:
        return 1
    magnitude = 1.0
    while magnitude * 10 <= value:
        magnitude *= 10
    while magnitude > value:
        magnitude /= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _join(parts) -> SafeString:
    return format_html_join("", "{}", ((part,) for part in parts))


def _frame(chart_id: str, title: str, description: str, parts, height: int) -> SafeString:
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" width="100%" role="img" '
        'aria-labelledby="{}-title {}-desc" xmlns="http://www.w3.org/2000/svg" '
        'font-family="system-ui, sans-serif" font-size="12">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>{}</svg>',
        WIDTH,
        height,
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        description,
        _join(parts),
    )


def _f(value: float) -> str:
    return f"{value:.1f}"


def line_chart(*, title: str, days: Sequence[date], series: Sequence[Series]) -> SafeString:
    """One line per series over the days; every day is a point (days without data are 0)."""
    chart_id = f"chart-{next(_ids)}"
    top_value = _nice_ceiling(max((max(s.values, default=0) for s in series), default=0))
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    step = plot_width / max(len(days) - 1, 1)

    def x(index: int) -> str:
        return _f(LEFT + index * step)

    def y(value: float) -> str:
        return _f(TOP + plot_height - (value / top_value) * plot_height)

    parts = []
    for fraction in (0, 0.5, 1):  # gridlines and their values
        value = top_value * fraction
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#e4e2ee"/>'
                '<text x="{}" y="{}" text-anchor="end" fill="#6b6880">{}</text>',
                LEFT,
                WIDTH - RIGHT,
                y(value),
                y(value),
                LEFT - 6,
                _f(float(y(value)) + 4),
                _number(value),
            )
        )
    label_every = max(1, len(days) // 5)
    last = len(days) - 1
    for index, day in enumerate(days):
        if (index % label_every == 0 and last - index >= label_every / 2) or index == last:
            anchor = "start" if index == 0 else "end" if index == last else "middle"
            parts.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="{}" fill="#6b6880">{}</text>',
                    x(index),
                    HEIGHT - 8,
                    anchor,
                    f"{day:%d %b}",
                )
            )
    for number, one in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        points = " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(one.values))
        parts.append(
            format_html(
                '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>', points, colour
            )
        )
        for index, (day, value) in enumerate(zip(days, one.values, strict=True)):
            parts.append(
                format_html(
                    '<circle cx="{}" cy="{}" r="2.5" fill="{}"><title>{}, {}: {}</title></circle>',
                    x(index),
                    y(value),
                    colour,
                    one.label,
                    f"{day:%d %b}",
                    _number(value),
                )
            )
    legend_x = LEFT
    for number, one in enumerate(series):
        parts.append(
            format_html(
                '<rect x="{}" y="0" width="10" height="10" fill="{}"/>'
                '<text x="{}" y="9" fill="#1d1b2a">{}</text>',
                legend_x,
                PALETTE[number % len(PALETTE)],
                legend_x + 14,
                one.label,
            )
        )
        legend_x += 28 + 7 * len(one.label)
    totals = "; ".join(f"{one.label}: {_number(sum(one.values))}" for one in series)
    span = f"{days[0]:%d %b %Y} to {days[-1]:%d %b %Y}" if days else "no days"
    description = f"Per day from {span}. Totals: {totals}."
    return _frame(chart_id, title, description, parts, HEIGHT)


def bar_chart(*, title: str, bars: Sequence[tuple[str, float]], unit: str = "") -> SafeString:
    """Horizontal bars, one per label, in the order given."""
    chart_id = f"chart-{next(_ids)}"
    row_height = 26
    label_width = 200
    height = max(row_height * len(bars) + 8, 40)
    top_value = max((value for _, value in bars), default=0) or 1
    bar_space = WIDTH - label_width - 80
    parts = []
    if not bars:
        parts.append(
            format_html('<text x="8" y="24" fill="#6b6880">{}</text>', "Nothing in this period.")
        )
    for index, (label, value) in enumerate(bars):
        top = 4 + index * row_height
        width = bar_space * value / top_value
        shown = f"{_number(value)}{unit}"
        short = label if len(label) <= 30 else label[:29] + "…"  # the full label is in <title>
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" fill="#1d1b2a">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" rx="3" fill="{}">'
                "<title>{}: {}</title></rect>"
                '<text x="{}" y="{}" fill="#1d1b2a">{}</text>',
                label_width - 8,
                top + 16,
                short,
                label_width,
                top + 4,
                _f(width),
                row_height - 8,
                PALETTE[0],
                label,
                shown,
                _f(label_width + width + 6),
                top + 16,
                shown,
            )
        )
    figures = "; ".join(f"{label}: {_number(value)}{unit}" for label, value in bars)
    description = figures + "." if bars else "Nothing in this period."
    return _frame(chart_id, title, description, parts, height)
