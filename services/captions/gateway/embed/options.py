"""The widget's query parameters. Only values from fixed lists or strict patterns reach the page: a bad
value falls back to its default, and nothing a URL says is ever written into CSS or HTML as given."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

THEMES = ("dark", "light", "transparent", "high-contrast")
FONTS = {
    "sans": "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif",
    "serif": "Georgia, Times New Roman, serif",
    "mono": "ui-monospace, Menlo, Consolas, monospace",
    "readable": "Atkinson Hyperlegible, Verdana, Tahoma, sans-serif",
}
ALIGNS = ("left", "center", "right")
POSITIONS = ("bottom", "top")
_COLOUR = re.compile(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?")
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(?::\d{1,5})?")
MAX_LINES = 12


@dataclass(frozen=True)
class EmbedOptions:
    lines: int | None = 2  # None: the whole transcript
    theme: str = "dark"
    font: str = "sans"
    size: int = 28
    color: str | None = None
    background: str | None = None
    align: str = "center"
    position: str = "bottom"
    parent: str | None = None  # origin of the host page, for postMessage

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> EmbedOptions:
        default = cls()
        return cls(
            lines=_lines(query.get("lines"), default.lines),
            theme=_choice(query.get("theme"), THEMES, default.theme),
            font=_choice(query.get("font"), tuple(FONTS), default.font),
            size=_int(query.get("size"), 12, 96, default.size),
            color=_match(query.get("color"), _COLOUR),
            background=_match(query.get("background"), _COLOUR),
            align=_choice(query.get("align"), ALIGNS, default.align),
            position=_choice(query.get("position"), POSITIONS, default.position),
            parent=_match(query.get("parent"), _ORIGIN),
        )

    @property
    def font_stack(self) -> str:
        return FONTS[self.font]


def is_origin(value: str) -> bool:
    return _match(value, _ORIGIN) is not None


def _choice(value: str | None, allowed: tuple[str, ...], default: str) -> str:
    return value if value in allowed else default


def _int(value: str | None, low: int, high: int, default: int) -> int:
    if value is None or not value.isdigit():
        return default
    number = int(value)
    return number if low <= number <= high else default


def _lines(value: str | None, default: int | None) -> int | None:
    if value == "all":
        return None
    return _int(value, 1, MAX_LINES, default or 2)


def _match(value: str | None, pattern: re.Pattern[str]) -> str | None:
    return value if value is not None and pattern.fullmatch(value) else None
