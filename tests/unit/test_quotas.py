"""Daily audio quotas: cloud recognisers have their own, smaller one beside the audio one (the operator pays)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from captions.gateway.guard import ClientError
from captions.gateway.live import LiveRoom
from captions.gateway.quotas import Quotas
from captions.limits.memory import MemoryLimiter
from captions.settings import Settings
from captions.store.base import RoomRecord, Store

FRAME_S = 0.1


def room(room_id: str, recognizer: str, organizer: str = "org-1") -> LiveRoom:
    live = LiveRoom(room_id, "en", presenter_address="192.0.2.1")
    live.record = RoomRecord(room_id, "Talk", "en", "hash", datetime.now(UTC), recognizer=recognizer,
                             organizer=organizer)  # fmt: skip
    return live


async def seconds_accepted(quotas: Quotas, live: LiveRoom, at_most_s: float) -> float:
    accepted = 0.0
    refusal: ClientError | None = None
    while accepted < at_most_s and refusal is None:
        try:
            await quotas.audio(live, FRAME_S)
            accepted += FRAME_S
        except ClientError as error:
            refusal = error
    if refusal is not None:
        assert (refusal.code, refusal.counts) == ("audio_quota", False)
    return accepted


async def test_cloud_audio_has_its_own_daily_quota_beside_the_audio_one() -> None:
    settings = Settings(audio_hours_per_day=0.01, cloud_hours_per_day=0.001)  # 36 s, of it 3.6 s by cloud
    store: Store = None  # type: ignore[assignment]  # audio quotas never read the store
    quotas = Quotas(settings, MemoryLimiter(), store)
    assert await seconds_accepted(quotas, room("cloud", "google"), 60) == pytest.approx(3.6)
    assert await seconds_accepted(quotas, room("local", "local"), 60) == pytest.approx(36 - 3.6)
    assert await seconds_accepted(quotas, room("other", "local", organizer="org-2"), 60) == pytest.approx(36)
    assert await seconds_accepted(quotas, room("anonymous", "local", organizer=""), 100) == pytest.approx(36)
