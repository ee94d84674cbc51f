"""The benchmarks' last results as SVG charts for the README (``docs/images/bench-*.svg``), drawn by hand: no
plotting library for three charts. ``make bench`` runs this last; ``python -m tests.bench.charts`` redraws them
from ``bench/results``.
"""

from __future__ import annotations

import json
import sys
from html import escape
from pathlib import Path
from typing import Any

from tests.bench.engine import RESULTS

IMAGES = RESULTS.parents[1] / "docs" / "images"
WIDTH, HEIGHT = 720, 320
LEFT, RIGHT, TOP, BOTTOM = 64, 24, 48, 72
COLOURS = ("#1a73e8", "#e8710a", "#188038")


def bar_chart(title: str, unit: str, labels: list[str], series: dict[str, list[float]]) -> str:
    """Grouped bars: one group per label, one bar per series."""
    top = max((v for values in series.values() for v in values), default=1.0) * 1.15 or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group_w = plot_w / max(1, len(labels))
    bar_w = group_w * 0.8 / max(1, len(series))
    parts = _frame(title, unit, top)
    for index, label in enumerate(labels):
        x0 = LEFT + index * group_w + group_w * 0.1
        for k, values in enumerate(series.values()):
            value = values[index]
            h = plot_h * value / top
            x, y = x0 + k * bar_w, TOP + plot_h - h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" fill="{COLOURS[k]}">'
                         f"<title>{escape(label)}: {value:g} {unit}</title></rect>")  # fmt: skip
        parts.append(f'<text x="{LEFT + (index + 0.5) * group_w:.1f}" y="{HEIGHT - BOTTOM + 16}" font-size="11" '
                     f'text-anchor="middle">{escape(label)}</text>')  # fmt: skip
    return _finish(parts, list(series))


def line_chart(title: str, unit: str, xs: list[int], series: dict[str, list[float]], x_label: str) -> str:
    top = max((v for values in series.values() for v in values), default=1.0) * 1.15 or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = max(xs) - min(xs) or 1

    def point(x: int, y: float) -> tuple[float, float]:
        return LEFT + plot_w * (x - min(xs)) / span, TOP + plot_h * (1 - y / top)

    parts = _frame(title, unit, top)
    for k, values in enumerate(series.values()):
        points = [point(x, y) for x, y in zip(xs, values, strict=True)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{COLOURS[k]}" stroke-width="2.5"/>')
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{COLOURS[k]}"/>' for x, y in points]
    for x in xs:
        px, _ = point(x, 0)
        parts.append(
            f'<text x="{px:.1f}" y="{HEIGHT - BOTTOM + 16}" font-size="11" text-anchor="middle">{x}</text>'
        )
    parts.append(f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - BOTTOM + 34}" font-size="12" '
                 f'text-anchor="middle">{escape(x_label)}</text>')  # fmt: skip
    return _finish(parts, list(series))


def _frame(title: str, unit: str, top: float) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'font-family="system-ui, sans-serif" role="img" aria-label="{escape(title)}">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
        f'<text x="{LEFT}" y="26" font-size="16" font-weight="600">{escape(title)}</text>',
    ]
    for step in range(5):
        value = top * step / 4
        y = TOP + plot_h * (1 - step / 4)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e0e0e0"/>')
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{value:.2g} {unit}</text>'
        )
    return parts


def _finish(parts: list[str], names: list[str]) -> str:
    for k, name in enumerate(names):
        x = LEFT + k * 170
        parts.append(f'<rect x="{x}" y="{HEIGHT - 22}" width="12" height="12" fill="{COLOURS[k]}"/>')
        parts.append(f'<text x="{x + 18}" y="{HEIGHT - 12}" font-size="12">{escape(name)}</text>')
    return "\n".join([*parts, "</svg>"]) + "\n"


def draw(results: Path = RESULTS, images: Path = IMAGES) -> list[Path]:
    images.mkdir(parents=True, exist_ok=True)
    written = []
    engine = _load(results / "engine.json")
    if engine:
        files = engine["files"]
        svg = bar_chart(
            "Streaming engine: final-caption latency per recording (real time)",
            "s",
            [f["file"].rsplit(".", 1)[0] for f in files],
            {"final p50": [f["final_p50"] for f in files], "final p95": [f["final_p95"] for f in files]},
        )
        written.append(_write(images / "bench-latency.svg", svg))
    server = _load(results / "server.json")
    if server:
        fan_out = server["fan_out"]
        svg = line_chart(
            "Fan-out from one room: delivery latency by number of viewers",
            "ms",
            [row["viewers"] for row in fan_out],
            {
                "p50": [row["p50_s"] * 1000 for row in fan_out],
                "p99": [row["p99_s"] * 1000 for row in fan_out],
            },
            "viewers",
        )
        written.append(_write(images / "bench-fanout.svg", svg))
    soak = _load(results / "soak.json")
    if soak:
        runs = soak["runs"]
        minutes = [w["minute"] for w in next(iter(runs.values()))["windows"]]
        series = {
            f"{name}: final p95": [w["final_p95"] for w in run["windows"]] for name, run in runs.items()
        }
        series |= {
            f"{name}: WER x10": [w["wer"] * 10 for w in run["windows"]]
            for name, run in list(runs.items())[:1]
        }
        svg = line_chart("An hour of speech: final p95 latency (s) and WER (x10) per 5-minute window", "",
                         minutes, series, "minute")  # fmt: skip
        written.append(_write(images / "bench-soak.svg", svg))
    return written


def _load(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.is_file() else None


def _write(path: Path, svg: str) -> Path:
    path.write_text(svg)
    return path


if __name__ == "__main__":
    for path in draw():
        print(f"chart: {path}")
    sys.exit(0)
