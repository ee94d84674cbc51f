"""The browser tests' side in Python: Debian's Chromium driven by the playwright-core scripts in tests/browser."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

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
