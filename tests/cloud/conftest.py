"""``make test-cloud``: the cloud adapters against the real services, where credentials are present.

The suite's own conftest clears every ``CAPTIONS_*`` variable before each test (tests never read the developer's
shell); the cloud settings are taken here, once, when the tests are collected.
"""

from __future__ import annotations

import os

import pytest

from captions.settings import Settings

CLOUD_VARIABLES = {
    name: value
    for name, value in os.environ.items()
    if name.startswith(("CAPTIONS_AZURE_", "CAPTIONS_GOOGLE_")) or name == "GOOGLE_APPLICATION_CREDENTIALS"
}


@pytest.fixture
def cloud_settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name, value in CLOUD_VARIABLES.items():
        monkeypatch.setenv(name, value)
    return Settings()
