"""What every HTTP request and WebSocket goes through before the app: the client's real address, a cap on
request bodies (checked before they are read), and security headers on every response."""

from __future__ import annotations

import asyncio
import ipaddress
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from captions.limits.base import Limiter, address_key
from captions.limits.memory import MemoryLimiter
from captions.protocol import ErrorCode

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Pages of the Angular app: its own scripts, styles (Angular adds component styles inline), the QR code (a blob
# for private rooms) and Socket.IO on the same origin. Nobody may frame the presenter console or the viewer.
APP_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; media-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Everything else (JSON, transcripts, scripts) is never a document to render or frame.
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Swagger UI from its pinned package (served only with CAPTIONS_API_DOCS): its inline start-up script.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def trusted_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


class ClientAddress:
    """``scope["client"]`` becomes the address of the client: the peer, or, when the peer is a trusted proxy,
    the last address in ``X-Forwarded-For`` that is not one (proxies append; a client can only prepend)."""

    def __init__(self, app: ASGIApp, trusted: tuple[Network, ...]) -> None:
        self._app = app
        self._trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self._trusted:
            client = scope.get("client")
            peer = client[0] if client else ""
            if self._is_trusted(peer):
                forwarded = _header(scope, b"x-forwarded-for")
                for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
                    if not self._is_trusted(hop):
                        scope = {**scope, "client": (hop, 0)}
                        break
        await self._app(scope, receive, send)

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._trusted)


@dataclass(frozen=True)
class GateRule:
    """Requests ``matches`` picks count against the bucket ``kind`` of their address, or, for a rule that is
    not ``per_address``, against one bucket of this process (what its one event loop can take, whoever asks)."""

    kind: str
    rate: float
    burst: float
    matches: Callable[[Scope], bool]
    title: str
    per_address: bool = True
    # (rate, burst) within which an address is not counted against a process-wide rule: people joining from
    # their own address always get in, and only addresses that connect a lot share the process's rate.
    exempt_within: tuple[float, float] | None = None


class RequestGate:
    """Rates checked before anything else is done for a request: a new Socket.IO connection is refused before
    its WebSocket is accepted (or its long-polling session made), a room-creation flood before its body is
    parsed. Abuse then costs a bucket check or two, never a handshake or a request handled. Per-address buckets
    are in ``limiter`` (shared by the gateways when it is Redis; set once the app's backends are up); per-process
    ones in this process's memory."""

    def __init__(self, app: ASGIApp, rules: tuple[GateRule, ...], refusal_delay_s: float = 0.0) -> None:
        self._app = app
        self._rules = rules
        self._refusal_delay_s = refusal_delay_s
        self._process = MemoryLimiter()
        self.limiter: Limiter | None = None
        # Told the kind of each request a per-address rule matched (what reached this process): for the metrics.
        self.on_request: Callable[[str], None] = lambda kind: None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.limiter is not None and scope["type"] in ("http", "websocket"):
            for rule in self._rules:
                if not rule.matches(scope):
                    continue
                if rule.per_address:
                    self.on_request(rule.kind)
                    wait = await self.limiter.take(
                        address_key(rule.kind, _address(scope)), rule.rate, rule.burst
                    )
                elif await self._exempt(rule, scope):
                    continue
                else:
                    wait = await self._process.take(rule.kind, rule.rate, rule.burst)
                if not wait:
                    continue
                # A refused client waits for its answer: a script that loops on refusals is slowed to as many
                # as it keeps open, and each costs this process a sleeping task instead of another request.
                if self._refusal_delay_s:
                    await asyncio.sleep(self._refusal_delay_s)
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008, "reason": "rate_limited"})
                else:
                    retry = [(b"retry-after", str(max(1, round(wait))).encode())]
                    await _send_problem(send, 429, "Too many requests", rule.title, "rate_limited", retry)
                return
        await self._app(scope, receive, send)

    async def _exempt(self, rule: GateRule, scope: Scope) -> bool:
        if rule.exempt_within is None:
            return False
        rate, burst = rule.exempt_within
        return not await self._process.take(address_key(rule.kind, _address(scope)), rate, burst)


def _address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def opens_a_connection(scope: Scope) -> bool:
    """An Engine.IO handshake: no session id yet (an upgrade or a poll of an open session has one). Read as
    Engine.IO reads it (``parse_qs``, where an empty ``sid=`` is no session id), so that no query it takes for a
    new session passes here for an existing one."""
    if not scope.get("path", "").startswith("/socket.io"):
        return False
    try:
        query = parse_qs(scope.get("query_string", b"").decode("utf-8"))
    except UnicodeDecodeError:  # Engine.IO then reads no query at all
        return True
    return "sid" not in query


class WebSocketOnly:
    """Socket.IO over WebSocket only (every first-party client uses it): long-polling, which turns one request
    body into thousands of queued packets and needs every request of a client on one gateway, is refused with a
    problem, unless ``allow``ed."""

    def __init__(self, app: ASGIApp, allow_polling: bool) -> None:
        self._app = app
        self._allow_polling = allow_polling

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        polls = scope["type"] == "http" and scope.get("path", "").startswith("/socket.io")
        if polls and not self._allow_polling:
            detail = "this server speaks Socket.IO over WebSocket only (transports: ['websocket'])"
            await _send_problem(send, 400, "WebSocket required", detail, "websocket_required", [])
            return
        await self._app(scope, receive, send)


def reads(scope: Scope) -> bool:
    """REST reads and embed pages: transcripts, QR codes and room lists cost a store read each."""
    return scope.get("method") in ("GET", "HEAD") and scope.get("path", "").startswith(("/api/", "/embed/"))


def renders_finals(scope: Scope) -> bool:
    """Transcript downloads and widget pages: each renders a session's finals (up to a whole talk's)."""
    path = scope.get("path", "")
    if scope.get("method") not in ("GET", "HEAD"):
        return False
    return path.startswith("/embed/") or (path.startswith("/api/rooms/") and "/transcript." in path)


def creates_a_room(scope: Scope) -> bool:
    return scope.get("method") == "POST" and scope.get("path", "").rstrip("/") == "/api/rooms"


class BodyLimit:
    """Requests with a body over ``limit`` bytes get 413 before the app reads it (by its Content-Length), or
    as soon as a streamed body passes the limit."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self._app = app
        self._limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        if length.isdigit() and int(length) > self._limit:
            await self._refuse(send)
            return
        received = 0
        started = too_large = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._limit:
                    # The app is told the client left (frameworks turn exceptions raised here into their own
                    # errors); its answer is dropped and the 413 sent instead.
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if too_large:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(scope, limited_receive, tracked_send)
        except Exception:
            if not too_large:
                raise
        if too_large and not started:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        detail = f"request bodies hold at most {self._limit} bytes"
        await _send_problem(
            send, 413, "Request body too large", detail, "body_too_large", [(b"connection", b"close")]
        )


async def _send_problem(
    send: Send, status: int, title: str, detail: str, code: ErrorCode, headers: list[tuple[bytes, bytes]]
) -> None:
    body = json.dumps(
        {"type": "about:blank", "title": title, "status": status, "detail": detail, "code": code},
        separators=(",", ":"),
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """``nosniff``, no referrer, and a CSP on every response that did not set its own (the app pages and the
    embed widget set theirs); ``X-Frame-Options`` for browsers without ``frame-ancestors``."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", DEFAULT_CSP.encode()))
                    headers.append((b"x-frame-options", b"DENY"))
                for name, value in (
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                ):
                    if name not in present:
                        headers.append((name, value))
                message = {**message, "headers": headers}
            await send(message)

        await self._app(scope, receive, with_headers)


def _header(scope: Scope, name: bytes) -> str:
    values: list[Any] = [value for key, value in scope.get("headers", []) if key.lower() == name]
    return b",".join(values).decode("latin-1") if values else ""
