from __future__ import annotations

import pytest

from captions.settings import Settings


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPTIONS_STEP_S", "0.5")
    monkeypatch.setenv("CAPTIONS_CORS_ORIGINS", '["https://events.example"]')
    monkeypatch.setenv("MONGODB_URL", "mongodb://db/captions")
    settings = Settings()
    assert settings.step_s == 0.5
    assert settings.cors_origins == ["https://events.example"]
    assert settings.mongodb_url == "mongodb://db/captions"


def test_nonsense_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPTIONS_NUM_WORKERS", "0")
    with pytest.raises(ValueError, match="num_workers"):
        Settings()


def test_threads_follow_the_workers() -> None:
    assert Settings(num_workers=2, cpu_threads=0).inference_threads() >= 1
    assert Settings(cpu_threads=3).inference_threads() == 3
