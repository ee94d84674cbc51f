"""Engine.IO's view of an ASGI request (its WSGI-style ``environ``), made without a class per request.

Engine.IO's ASGI driver defines the reader of a request's body as a class inside the function that translates
each request: a new class for every handshake, poll and WebSocket. A class is a reference cycle (its method
resolution order holds it), so each request left a dozen objects that only the cycle collector frees. Under the
abuse benchmark's handshake storms that was nearly all of the server's cyclic garbage (tens of thousands of objects
a pass), and the passes that freed it took 50-190 ms with captions waiting. The ``environ`` here is the driver's
(python-engineio 4.x), key for key; the body reader is one class for every request."""

from __future__ import annotations

import contextlib
import sys
from typing import Any

from engineio import AsyncServer
from starlette.types import Message, Receive, Scope, Send


class RequestBody:
    """``wsgi.input``: the request's body, read from the ASGI events as Engine.IO asks for it."""

    __slots__ = ("_event", "_payload", "_receive")

    def __init__(self, event: Message, receive: Receive) -> None:
        self._event = event
        self._receive = receive
        self._payload: bytes | None = None

    async def read(self, length: int | None = None) -> bytes:
        if self._payload is None:
            self._payload = await self._body(length) if self._event["type"] == "http.request" else b""
        if length is None:
            read, self._payload = self._payload, b""
        else:
            read, self._payload = self._payload[:length], self._payload[length:]
        return read

    async def _body(self, length: int | None) -> bytes:
        body: bytes = self._event.get("body") or b""
        while self._event.get("more_body"):
            self._event = await self._receive()
            if self._event["type"] == "http.request" and (length is None or len(body) < length):
                body += self._event.get("body") or b""
        return body


async def translate_request(scope: Scope, receive: Receive, send: Send) -> dict[str, Any]:
    event = await receive()
    if event["type"] not in ("http.request", "websocket.connect"):
        return {}
    query_string = ""
    if scope.get("query_string"):
        with contextlib.suppress(UnicodeDecodeError):  # as Engine.IO's own: an undecodable query is no query
            query_string = scope["query_string"].decode("utf-8")
    environ: dict[str, Any] = {
        "wsgi.input": RequestBody(event, receive),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.async": True,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "SERVER_SOFTWARE": "asgi",
        "REQUEST_METHOD": scope.get("method", "GET"),
        "PATH_INFO": scope["path"],
        "QUERY_STRING": query_string,
        "RAW_URI": scope["path"] + ("?" + query_string if query_string else ""),
        "SCRIPT_NAME": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "0",
        "SERVER_NAME": "asgi",
        "SERVER_PORT": "0",
        "asgi.receive": receive,
        "asgi.send": send,
        "asgi.scope": scope,
    }
    for raw_name, raw_value in scope["headers"]:
        try:
            name, value = raw_name.upper().decode("utf-8"), raw_value.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if name in ("CONTENT-TYPE", "CONTENT-LENGTH"):
            environ[name.replace("-", "_")] = value
            continue
        key = "HTTP_" + name.replace("-", "_")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    environ["wsgi.url_scheme"] = environ.get("HTTP_X_FORWARDED_PROTO", "http")
    return environ


def translate_requests_without_classes(engine: AsyncServer) -> None:
    """Engine.IO's server ``engine`` takes its requests through ``translate_request`` above."""
    engine._async = {**engine._async, "translate_request": translate_request}
