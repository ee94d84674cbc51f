"""What one owner may use here. A room's owner is the organizer who created it or, for an anonymous room, its
presenter's address (an IPv6 client is its /64): audio transcribed a day (cloud recognisers separately, the
operator pays for those) and, for an organizer, the caption text their rooms keep. Daily quotas are token
buckets that refill over 24 hours, so they hold across reconnects, processes and midnight alike."""

from __future__ import annotations

from captions.gateway.guard import ClientError
from captions.gateway.live import LiveRoom
from captions.limits.base import Limiter, address_key, organizer_key
from captions.settings import Settings
from captions.store.base import Store

DAY_S = 86_400.0
# Audio is taken from an owner's daily quota this many seconds at a time: one limiter call per 10 s of a talk,
# not one per frame (a gateway that dies loses at most this much of the quota).
AUDIO_CREDIT_S = 10.0


class Quotas:
    def __init__(self, settings: Settings, limiter: Limiter, store: Store) -> None:
        self._settings = settings
        self._limiter = limiter
        self._store = store

    async def audio(self, live: LiveRoom, seconds: float) -> None:
        """Counts ``seconds`` of the room's audio against its owner's daily quotas (ClientError when used up)."""
        if live.audio_credit >= seconds - 1e-9:  # frames of 0.1 s do not add up to 3.6 exactly in floats
            live.audio_credit = max(0.0, live.audio_credit - seconds)
            return
        settings = self._settings
        daily = [("audio_day", settings.audio_hours_per_day, "")]
        if live.record is not None and live.record.recognizer != "local":
            daily.insert(0, ("cloud_day", settings.cloud_hours_per_day, " by cloud recognisers"))
        daily = [(kind, hours, how) for kind, hours, how in daily if hours]
        # The same amount from each: at least this frame, at most what the smallest quota holds.
        chunk = max(seconds, min([AUDIO_CREDIT_S, *(hours * 3600 for _, hours, _ in daily)]))
        for kind, hours, how in daily:
            budget, key = hours * 3600, self._key(kind, live)
            if chunk > seconds and await self._limiter.take(key, budget / DAY_S, budget, chunk):
                chunk = seconds  # the quota's last few seconds, frame by frame
            if chunk == seconds and await self._limiter.take(key, budget / DAY_S, budget, chunk):
                raise ClientError(
                    "audio_quota",
                    f"{_whose(live)} has had {hours:g} hours of audio transcribed{how} in the last 24 hours, "
                    f"all it may; the quota refills by {hours / 24:.2g} hours an hour",
                    counts=False,
                )
        live.audio_credit += chunk - seconds

    def within_session(self, live: LiveRoom) -> None:
        """A session takes audio and text until it has ``max_finals_per_session`` finals (ClientError then)."""
        most = self._settings.max_finals_per_session
        if live.finals >= most:
            raise ClientError(
                "session_full",
                f"this session has {most} captions, all one session may have: stop it and start a new one",
                counts=False,
            )

    async def may_start(self, live: LiveRoom) -> None:
        """A new session needs room for its captions: in the room, and among its organizer's rooms
        (ClientError when full)."""
        settings = self._settings
        usage = await self._store.room_usage(live.room_id)
        if (
            usage.sessions >= settings.max_sessions_per_room
            or usage.caption_bytes >= settings.max_room_mb * 1e6
        ):
            raise ClientError(
                "room_full",
                f"this room keeps {usage.sessions} sessions and {usage.caption_bytes / 1e6:.1f} MB of captions, "
                f"all it may ({settings.max_sessions_per_room} sessions, {settings.max_room_mb:g} MB): "
                "create a new room, or delete this one",
                counts=False,
            )
        organizer = live.record.organizer if live.record is not None else ""
        limit = self._settings.organizer_stored_mb * 1e6
        if organizer and limit and await self._store.organizers.stored_bytes(organizer) >= limit:
            raise ClientError(
                "storage_quota",
                f"your organizer account's rooms keep {self._settings.organizer_stored_mb:g} MB of captions, "
                "all they may: delete rooms you no longer need, then start again",
                counts=False,
            )

    def _key(self, kind: str, live: LiveRoom) -> str:
        organizer = live.record.organizer if live.record is not None else ""
        return organizer_key(kind, organizer) if organizer else address_key(kind, live.presenter_address)


def _whose(live: LiveRoom) -> str:
    organized = live.record is not None and live.record.organizer
    return "your organizer account" if organized else "your address"
