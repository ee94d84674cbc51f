"""Engine.IO's requests, translated as its own ASGI driver translates them (key for key, the body read alike),
without the class per request that left each request's objects to the cycle collector."""

from __future__ import annotations

from typing import Any

import pytest
from engineio.async_drivers import asgi
from starlette.types import Message

from captions.gateway.engine_requests import translate_request

HEADERS = [
    (b"host", b"captions.example:8443"),
    (b"content-type", b"text/plain;charset=UTF-8"),
    (b"content-length", b"11"),
    (b"x-forwarded-proto", b"https"),
    (b"cookie", b"a=1"),
    (b"cookie", b"b=2"),  # said twice: joined, as Engine.IO joins them
    (b"x-odd", b"\xff\xfe"),  # not UTF-8: left out
    (b"origin", b"https://captions.example:8443"),
]


def scope(kind: str, query: bytes) -> dict[str, Any]:
    return {"type": kind, "method": "POST" if kind == "http" else "GET", "path": "/socket.io/",
            "query_string": query, "headers": HEADERS}  # fmt: skip


def events(kind: str, chunks: list[bytes]) -> list[Message]:
    if kind == "websocket":
        return [{"type": "websocket.connect"}]
    return [
        {"type": "http.request", "body": chunk, "more_body": number < len(chunks) - 1}
        for number, chunk in enumerate(chunks)
    ]


def receiver(messages: list[Message]) -> Any:
    queue = list(messages)

    async def receive() -> Message:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    return receive


async def send(_: Message) -> None:
    return None


@pytest.mark.parametrize("kind", ["http", "websocket"])
@pytest.mark.parametrize("query", [b"EIO=4&transport=polling&room=abc", b"", b"bad=\xff"])
@pytest.mark.parametrize("lengths", [[None], [4, None], [3, 3, 3, 3, 3]])
async def test_requests_are_translated_as_engineio_translates_them(
    kind: str, query: bytes, lengths: list[int | None]
) -> None:
    chunks = [b"hello ", b"wor", b"ld"]
    ours = await translate_request(scope(kind, query), receiver(events(kind, chunks)), send)
    theirs = await asgi.translate_request(scope(kind, query), receiver(events(kind, chunks)), send)
    leave_out = {"wsgi.input", "asgi.receive", "asgi.send", "asgi.scope"}
    assert {k: v for k, v in ours.items() if k not in leave_out} == {
        k: v for k, v in theirs.items() if k not in leave_out
    }
    if kind == "http":
        assert [await ours["wsgi.input"].read(n) for n in lengths] == [
            await theirs["wsgi.input"].read(n) for n in lengths
        ]


async def test_a_request_that_is_not_one_translates_to_nothing() -> None:
    nothing = await translate_request(scope("http", b""), receiver([{"type": "http.disconnect"}]), send)
    assert nothing == {}
