"""What every client event must pass before its handler runs, and what a refusal does.

Rates count against what they protect (a room's presenter, a viewer's address), never the connection, so a
reconnect refills nothing. A refusal is an ``error`` event with a code, counted in the metrics and logged once
per client and code; a client that keeps sending what is refused is disconnected.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from captions.gateway.live import Client
from captions.limits.base import Limiter, address_key, room_key
from captions.metrics import Metrics
from captions.protocol import ErrorCode
from captions.settings import Settings

log = logging.getLogger(__name__)
# A client still sending after this many refusals in a row is not a confused client: it is disconnected.
MAX_REFUSALS = 100
# A presenter's Start/Pause/Stop have their own bucket: a flood of captions never blocks Stop.
CONTROL_EVENTS = frozenset({"start", "pause", "stop"})

SendError = Callable[[str, ErrorCode, str, int | None], Awaitable[None]]


class ClientError(Exception):
    """Something a client sent that cannot be taken; becomes an ``error`` event."""

    def __init__(
        self, code: ErrorCode, message: str, counts: bool = True, resume_seq: int | None = None
    ) -> None:
        """``counts``: the client's doing (a client that keeps at it is disconnected); a quota or a full
        server is not."""
        super().__init__(message)
        self.code = code
        self.message = message
        self.counts = counts
        self.resume_seq = resume_seq


class Guard:
    def __init__(
        self,
        settings: Settings,
        limiter: Limiter,
        metrics: Metrics,
        send_error: SendError,
        disconnect: Callable[[str], Awaitable[None]],
    ) -> None:
        self._settings = settings
        self._limiter = limiter
        self._metrics = metrics
        self._send_error = send_error
        self._disconnect = disconnect

    async def within_rate(self, client: Client, event: str, amount: float = 1.0) -> None:
        """``amount``: what the event costs (a correction, one per final it replaces)."""
        if client.role == "presenter":
            key = room_key("control" if event in CONTROL_EVENTS else "events", client.room_id)
        else:
            key = address_key("events", client.address)
        settings = self._settings
        if await self._limiter.take(key, settings.event_rate, settings.event_burst, amount):
            raise ClientError("rate_limited", "too many events; slow down")

    async def refused(self, sid: str, client: Client | None, error: ClientError, counts: bool = True) -> None:
        """``counts``: the refusal is the client's doing (a server at capacity is not)."""
        self._metrics.rejected.labels(error.code).inc()
        if client is not None:
            if error.code not in client.logged:
                client.logged.add(error.code)
                log.info(
                    "client %s (%s) of room %s refused: %s", sid, client.role, client.room_id, error.code
                )
            client.refusals += counts
            if client.refusals > MAX_REFUSALS:
                log.warning("client %s of room %s disconnected: %d refusals in a row", sid, client.room_id,
                            client.refusals)  # fmt: skip
                self._metrics.disconnected.labels("too_many_refusals").inc()
                await self._send_error(
                    sid, "too_many_refusals", "too many refused events; disconnected", None
                )
                await self._disconnect(sid)
                return
        await self._send_error(sid, error.code, error.message, error.resume_seq)


def parse(model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ClientError("bad_payload", first_error(error)) from None


def first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "payload"
    return f"{where}: {first['msg']}"
