"""The browser tests' side in Python: Debian's Chromium driven by the playwright-core scripts in tests/browser."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

BROWSER_DIR = Path(__file__).resolve().parents[1] / "browser"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def browser_tools() -> str:
    node, chromium = shutil.which("node"), Path("/usr/bin/chromium")
    if (
        node is None
        or not chromium.exists()
        or not (BROWSER_DIR / "node_modules" / "playwright-core").is_dir()
    ):
        pytest.skip(
            "browser tests need node, /usr/bin/chromium and `npm ci` in tests/browser (make test does it)"
        )
    return node


async def run_node(
    node: str, script: str, *args: str, env: dict[str, str] | None = None
) -> dict[str, object]:
    process = await asyncio.create_subprocess_exec(
        node,
        str(BROWSER_DIR / script),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=180)
    assert process.returncode == 0, err.decode()
    result: dict[str, object] = json.loads(out.decode().strip().splitlines()[-1])
    return result


def assert_routed_by_room(socket_urls: object, room_id: str) -> None:
    """Every Socket.IO connection names its room in the URL query, where a proxy can hash on it."""
    assert isinstance(socket_urls, list)
    assert socket_urls, "the page opened a Socket.IO connection"
    for url in socket_urls:
        assert parse_qs(urlsplit(str(url)).query).get("room") == [room_id], url
