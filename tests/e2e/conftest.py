from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from captions.asr.engine import Engine
from captions.settings import Settings
from tests.support.harness import Server


@pytest.fixture
def server_settings(tmp_path: Path) -> Settings:
    # No web app unless a test asks for it: the fallback pages are what most tests look at.
    return Settings(
        data_dir=tmp_path / "data",
        status_interval_s=0.2,
        web_dir=tmp_path / "no-web-build",
        metrics_token="scraper-token",
    )


@pytest.fixture
async def server(server_settings: Settings, engine: Engine) -> AsyncIterator[Server]:
    running = await Server(server_settings, engine).start()
    yield running
    await running.stop()
