"""Local stand-ins for where captions are sent on, each speaking its service's documented protocol and refusing
what the real one refuses: Zoom's closed captioning API, YouTube Live's HTTP caption ingestion, an
obs-websocket 5 server, and a webhook receiver that verifies signatures. Each can fail or hang on demand."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Self

from aiohttp import web
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from tests.support.processes import free_port

_LANG = re.compile(r"^[a-z]{2,3}-[A-Z]{2}$")
_YOUTUBE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$")
HANG_S = 30.0


@dataclass(frozen=True)
class Received:
    seq: int
    text: str
    extra: dict[str, Any] = field(default_factory=dict)


class Trouble:
    """Failures on demand: the next ``n`` requests answer ``status``, or hang past any client's timeout."""

    def __init__(self) -> None:
        self.failing: list[int] = []  # statuses for the next requests
        self.hanging = 0
        self.requests = 0

    def fail(self, times: int, status: int = 500) -> None:
        self.failing += [status] * times

    def hang(self, times: int) -> None:
        self.hanging += times

    async def strike(self) -> web.Response | None:
        self.requests += 1
        if self.hanging:
            self.hanging -= 1
            await asyncio.sleep(HANG_S)
        if self.failing:
            return web.Response(status=self.failing.pop(0), text="injected failure")
        return None


class HttpFake:
    def __init__(self) -> None:
        self.port = free_port()
        self.trouble = Trouble()
        self.received: list[Received] = []  # in the order accepted
        self.refused: list[str] = []  # why each refused request was refused
        self._runner: web.AppRunner | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self) -> Self:
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def refuse(self, status: int, why: str) -> web.Response:
        self.refused.append(why)
        return web.Response(status=status, text=why)

    @property
    def texts(self) -> list[str]:
        return [entry.text for entry in self.received]


def _plain_text_utf8(request: web.Request) -> bool:
    kind = request.headers.get("Content-Type", "").lower().replace(" ", "")
    return kind.startswith("text/plain") and "charset=utf-8" in kind


class FakeZoom(HttpFake):
    """``POST /closedcaption?id&ns&expire&signature&seq&lang`` with the caption as ``text/plain; charset=utf-8``;
    ``GET /closedcaption/seq?...`` answers the last seq taken. The token (the query Zoom issued) must be there;
    a seq not after the last one taken is refused."""

    def __init__(self) -> None:
        super().__init__()
        self.token = {"id": str(secrets.randbelow(10**9)), "ns": secrets.token_urlsafe(12), "expire": "86400",
                      "signature": secrets.token_urlsafe(24)}  # fmt: skip
        self.last_seq = 0

    @property
    def url(self) -> str:
        query = "&".join(f"{key}={value}" for key, value in self.token.items())
        return f"{self.base}/closedcaption?{query}"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/closedcaption", self._caption)
        app.router.add_get("/closedcaption/seq", self._seq)

    def _authorised(self, request: web.Request) -> bool:
        return all(request.query.get(key) == value for key, value in self.token.items())

    async def _seq(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self.refuse(403, "bad token")
        failure = await self.trouble.strike()
        return failure or web.Response(text=str(self.last_seq))

    async def _caption(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self.refuse(403, "bad token")
        if not _plain_text_utf8(request):
            return self.refuse(400, "content type")
        seq, lang = request.query.get("seq", ""), request.query.get("lang", "")
        if not seq.isdigit() or not _LANG.match(lang):
            return self.refuse(400, "seq or lang")
        text = (await request.read()).decode("utf-8")
        failure = await self.trouble.strike()
        if failure is not None:
            return failure
        if int(seq) <= self.last_seq:
            return self.refuse(400, f"seq {seq} is not after {self.last_seq}")
        self.last_seq = int(seq)
        self.received.append(Received(int(seq), text, {"lang": lang}))
        return web.Response(text="")


class FakeYouTube(HttpFake):
    """``POST /closedcaption?cid&seq``: ``text/plain`` body, a ``YYYY-MM-DDTHH:MM:SS.mmm`` line then the text;
    answers its own time of receipt (``clock_skew_s`` off ours). A seq seen already is taken again (YouTube
    keys captions by it) but is not a new caption."""

    def __init__(self, clock_skew_s: float = 0.0) -> None:
        super().__init__()
        self.cid = secrets.token_urlsafe(16)
        self.clock_skew_s = clock_skew_s
        self.resent: list[int] = []

    @property
    def url(self) -> str:
        return f"{self.base}/closedcaption?cid={self.cid}"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/closedcaption", self._caption)

    async def _caption(self, request: web.Request) -> web.Response:
        if request.query.get("cid") != self.cid:
            return self.refuse(403, "bad cid")
        if not request.headers.get("Content-Type", "").startswith("text/plain"):
            return self.refuse(400, "content type")
        seq = request.query.get("seq", "")
        lines = (await request.read()).decode("utf-8").rstrip("\n").split("\n")
        if not seq.isdigit() or len(lines) < 2 or not _YOUTUBE_TIME.match(lines[0]):
            return self.refuse(400, "seq or body")
        failure = await self.trouble.strike()
        if failure is not None:
            return failure
        if any(entry.seq == int(seq) for entry in self.received):
            self.resent.append(int(seq))
        else:
            spoken = datetime.strptime(lines[0], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
            self.received.append(
                Received(int(seq), " ".join(lines[1:]), {"spoken": spoken, "arrived": time.time()})
            )
        now = datetime.now(UTC) + timedelta(seconds=self.clock_skew_s)
        return web.Response(text=now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}")


class FakeWebhook(HttpFake):
    """Verifies ``X-Captions-Signature`` (HMAC-SHA256 of ``{timestamp}.{body}``) and refuses timestamps older
    than five minutes, as the README tells integrators to; keeps each event once by its ``seq``."""

    def __init__(self) -> None:
        super().__init__()
        self.secret = secrets.token_urlsafe(24)
        self.resent: list[int] = []

    @property
    def url(self) -> str:
        return f"{self.base}/hooks/captions"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/hooks/captions", self._event)

    async def _event(self, request: web.Request) -> web.Response:
        body = await request.read()
        stamp = request.headers.get("X-Captions-Timestamp", "")
        expected = (
            "v1=" + hmac.new(self.secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        )
        if not hmac.compare_digest(expected, request.headers.get("X-Captions-Signature", "")):
            return self.refuse(401, "bad signature")
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > 300:
            return self.refuse(401, "stale timestamp")
        failure = await self.trouble.strike()
        if failure is not None:
            return failure
        event = json.loads(body)
        if any(entry.seq == event["seq"] for entry in self.received):
            self.resent.append(event["seq"])
        else:
            self.received.append(Received(event["seq"], event["text"], event))
        return web.Response(status=204)


class FakeObs:
    """obs-websocket 5: Hello with an authentication challenge, Identify checked as OBS checks it (a wrong
    password closes with 4009), then ``SendStreamCaption`` requests (501 OutputNotRunning unless streaming).
    ``drop()`` closes every connection, as OBS restarting does."""

    def __init__(self) -> None:
        self.port = free_port()
        self.password = secrets.token_urlsafe(12)
        self.streaming = True
        self.received: list[Received] = []  # by requestId: a resend keeps its id
        self.resent: list[int] = []
        self.refused_identities = 0
        self.connections = 0
        self._open: set[ServerConnection] = set()
        self._server: Server | None = None

    async def start(self) -> Self:
        self._server = await serve(self._serve, "127.0.0.1", self.port, subprotocols=["obswebsocket.json"])  # type: ignore[list-item]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def drop(self) -> None:
        for connection in list(self._open):
            await connection.close(1001, "OBS is restarting")

    @property
    def texts(self) -> list[str]:
        return [entry.text for entry in self.received]

    async def _serve(self, connection: ServerConnection) -> None:
        self.connections += 1
        salt, challenge = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        await connection.send(json.dumps({"op": 0, "d": {"obsWebSocketVersion": "5.5.0", "rpcVersion": 1,
                              "authentication": {"challenge": challenge, "salt": salt}}}))  # fmt: skip
        identify = json.loads(await connection.recv())
        secret = base64.b64encode(hashlib.sha256((self.password + salt).encode()).digest()).decode()
        expected = base64.b64encode(hashlib.sha256((secret + challenge).encode()).digest()).decode()
        if identify.get("op") != 1 or identify["d"].get("authentication") != expected:
            self.refused_identities += 1
            await connection.close(4009, "Authentication failed.")
            return
        await connection.send(json.dumps({"op": 2, "d": {"negotiatedRpcVersion": 1}}))
        self._open.add(connection)
        try:
            async for raw in connection:
                await connection.send(json.dumps({"op": 7, "d": self._request(json.loads(raw)["d"])}))
        except ConnectionClosed:  # the captions server was killed: OBS just waits for the next connection
            pass
        finally:
            self._open.discard(connection)

    def _request(self, request: dict[str, Any]) -> dict[str, Any]:
        answer = {"requestType": request["requestType"], "requestId": request["requestId"]}
        if request["requestType"] != "SendStreamCaption":
            return {**answer, "requestStatus": {"result": False, "code": 204}}  # UnknownRequestType
        if not self.streaming:
            return {**answer, "requestStatus": {"result": False, "code": 501}}  # OutputNotRunning
        number = int(request["requestId"])
        if any(entry.seq == number for entry in self.received):
            self.resent.append(number)
        else:
            self.received.append(Received(number, request["requestData"]["captionText"]))
        return {**answer, "requestStatus": {"result": True, "code": 100}}
