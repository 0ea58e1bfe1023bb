"""A stacked bar chart of credits per day as inline SVG (server-rendered: no chart library, no script).

Each bar is one day; its segments are the series (actions, or call sources) in a fixed order and
colour. Every segment has a <title> (hover text), and the page shows the same figures as a table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

# Colours with at least 3:1 contrast against the white background (WCAG non-text contrast).
PALETTE = ("#1f5fa8", "#b3541e", "#2e7d32", "#7b3fa0", "#8a6d00", "#00796b", "#c2185b", "#455a64")

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 12, 28


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    values: dict[date, int]

    @property
    def total(self) -> int:
        return int(sum(self.values.values()))


def series_of(points: Iterable[tuple[date, str, int]]) -> list[Series]:
    """(day, series name, credits) points as series, biggest total first, each with its colour."""
    by_name: dict[str, dict[date, int]] = {}
    for day, name, credits in points:
        values = by_name.setdefault(name, {})
        values[day] = values.get(day, 0) + credits
    ordered = sorted(by_name.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    return [Series(name, PALETTE[i % len(PALETTE)], values) for i, (name, values) in enumerate(ordered)]


def _nice_max(value: int) -> int:
    if value <= 0:
        return 10
    step = 10 ** (len(str(value)) - 1)
    return int(((value + step - 1) // step) * step)


def stacked_bars(days: list[date], series: list[Series], label: str) -> Markup:
    totals = [sum(max(s.values.get(d, 0), 0) for s in series) for d in days]
    top = _nice_max(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(days), 1)
    bar_w = max(slot * 0.7, 1.0)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg">'
    ]
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">{int(top * fraction):,}</text>'
        )
    for i, day in enumerate(days):
        x = LEFT + i * slot + (slot - bar_w) / 2
        y = TOP + plot_h
        for s in series:
            credits = max(s.values.get(day, 0), 0)
            if credits == 0:
                continue
            h = plot_h * credits / top
            y -= h
            tip = escape(f"{day.isoformat()}: {s.name} {credits:,} credits")
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{s.colour}">'
                f"<title>{tip}</title></rect>"
            )
        if (len(days) - 1 - i) % 7 == 0:  # weekly labels, counted back from the last day
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{HEIGHT - 8}" class="axis" text-anchor="middle">'
                f"{day.strftime('%b %d')}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))
