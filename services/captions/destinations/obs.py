"""OBS Studio through obs-websocket 5: Hello, Identify with the authentication OBS asks for, then each caption
as a ``SendStreamCaption`` request (OBS puts it into the outgoing stream as CEA-608). A connection lost (OBS
restarted) is opened again on the next caption."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake, WebSocketException

from captions.destinations.addresses import DestinationRefused, resolve
from captions.destinations.lines import Line
from captions.destinations.sending import DeliveryFailed, NotLive

SUBPROTOCOL = "obswebsocket.json"
RPC_VERSION = 1
AUTHENTICATION_FAILED = 4009  # the close code OBS answers a wrong password with
OUTPUT_NOT_RUNNING = 501  # SendStreamCaption while OBS is not streaming
MAX_MESSAGE_BYTES = 1 << 20


def authentication(password: str, salt: str, challenge: str) -> str:
    """obs-websocket 5: base64(sha256(base64(sha256(password + salt)) + challenge))."""
    secret = base64.b64encode(hashlib.sha256((password + salt).encode()).digest()).decode()
    return base64.b64encode(hashlib.sha256((secret + challenge).encode()).digest()).decode()


class ObsSender:
    def __init__(self, host: str, port: int, password: str, timeout_s: float, allow_private: bool) -> None:
        self._host = host
        self._port = port
        self._password = password
        self._timeout_s = timeout_s
        self._allow_private = allow_private
        self._connection: ClientConnection | None = None

    async def last_accepted(self) -> int | None:
        return None

    async def send(self, line: Line, number: int) -> None:
        try:
            async with asyncio.timeout(self._timeout_s):
                connection = self._connection or await self._connect()
                request = {
                    "op": 6,
                    "d": {
                        "requestType": "SendStreamCaption",
                        "requestId": str(number),
                        "requestData": {"captionText": line.text},
                    },
                }
                await connection.send(json.dumps(request))
                status = await self._answer(connection, str(number))
        except TimeoutError as error:
            await self.close()
            raise DeliveryFailed("OBS did not answer in time") from error
        except (WebSocketException, OSError, ValueError, KeyError, TypeError) as error:
            await self.close()
            raise DeliveryFailed("the connection to OBS was lost") from error
        if status.get("result") is True:
            return
        if status.get("code") == OUTPUT_NOT_RUNNING:
            raise NotLive("OBS is not streaming: captions go nowhere until it is")
        raise DeliveryFailed(f"OBS refused the caption (code {status.get('code')})")

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()

    async def _connect(self) -> ClientConnection:
        try:
            address = (await resolve(self._host, self._port, self._allow_private))[0]
        except DestinationRefused as error:
            raise DeliveryFailed(str(error)) from error
        where = f"[{address}]" if ":" in address else address
        try:
            connection = await connect(
                f"ws://{where}:{self._port}",
                subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
                max_size=MAX_MESSAGE_BYTES,
                open_timeout=None,  # the caller's timeout bounds the whole exchange
                proxy=None,
                compression=None,  # captions are a line each: not worth a zlib state
                close_timeout=1.0,
            )
        except (InvalidHandshake, OSError) as error:
            raise DeliveryFailed("could not connect to OBS") from error
        try:
            await self._identify(connection)
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        return connection

    async def _identify(self, connection: ClientConnection) -> None:
        hello = _message(await connection.recv())
        if hello.get("op") != 0:
            raise DeliveryFailed("this is not an obs-websocket 5 server")
        identify: dict[str, Any] = {"rpcVersion": RPC_VERSION, "eventSubscriptions": 0}
        asked = hello["d"].get("authentication")
        if asked:
            identify["authentication"] = authentication(self._password, asked["salt"], asked["challenge"])
        await connection.send(json.dumps({"op": 1, "d": identify}))
        try:
            identified = _message(await connection.recv())
        except WebSocketException as error:
            if connection.close_code == AUTHENTICATION_FAILED:
                raise DeliveryFailed("OBS refused the password") from error
            raise
        if identified.get("op") != 2:
            raise DeliveryFailed("OBS did not accept the connection")

    @staticmethod
    async def _answer(connection: ClientConnection, request_id: str) -> dict[str, Any]:
        while True:  # events (op 5) may come between; the caller's timeout bounds the wait
            message = _message(await connection.recv())
            if message.get("op") == 7 and message["d"].get("requestId") == request_id:
                status: dict[str, Any] = message["d"]["requestStatus"]
                return status


def _message(raw: str | bytes) -> dict[str, Any]:
    message = json.loads(raw)
    if not isinstance(message, dict) or not isinstance(message.get("d"), dict):
        raise ValueError("not an obs-websocket message")
    return message
