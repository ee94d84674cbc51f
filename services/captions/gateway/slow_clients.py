"""uvicorn's h11 protocol with a deadline on request headers.

Neither of uvicorn's HTTP protocols times out a request whose headers never finish: a client sending a header
byte every few seconds (slowloris) holds its socket for ever, and enough of them hold every socket the process
has. Here the headers of each request must arrive whole within ``timeout_s`` of the connection (or of the
first byte after a keep-alive wait, which uvicorn times itself)."""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


def header_deadline_protocol(timeout_s: float) -> type[H11Protocol]:
    class HeaderDeadlineProtocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._waits_for_headers():
                self._arm()
            else:
                self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _waits_for_headers(self) -> bool:
            return self.conn.their_state is h11.IDLE and self.transport.get_protocol() is self

        def _arm(self) -> None:
            if self._deadline is None:
                self._deadline = self.loop.call_later(timeout_s, self._too_slow)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self) -> None:
            self._deadline = None
            if self._waits_for_headers() and not self.transport.is_closing():
                self.transport.close()

    return HeaderDeadlineProtocol
