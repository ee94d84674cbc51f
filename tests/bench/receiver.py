"""Webhook receivers for the destinations benchmark, in a process of their own so that what they do takes no
time from the benchmark's clients: ``/a`` and ``/b`` verify each request's signature and keep its arrival
time; ``/hang`` never answers (a destination whose host went dark). ``GET /records`` gives what arrived.

``python -m tests.bench.receiver PORT SECRET``"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import sys
import time
from typing import Any

from aiohttp import web


def main() -> None:
    port, secret = int(sys.argv[1]), sys.argv[2].encode()
    records: list[dict[str, Any]] = []

    async def receive(request: web.Request) -> web.Response:
        arrived = time.time()
        body = await request.read()
        stamp = request.headers.get("X-Captions-Timestamp", "")
        expected = "v1=" + hmac.new(secret, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("X-Captions-Signature", "")):
            return web.Response(status=401)
        event = json.loads(body)
        records.append({"to": request.path, "room": event["room"], "seq": event["seq"], "text": event["text"],
                        "arrived": arrived})  # fmt: skip
        return web.Response(status=204)

    async def hang(_: web.Request) -> web.Response:
        await asyncio.sleep(3600)
        return web.Response(status=204)

    async def listed(_: web.Request) -> web.Response:
        return web.json_response(records)

    app = web.Application()
    app.router.add_post("/a", receive)
    app.router.add_post("/b", receive)
    app.router.add_post("/hang", hang)
    app.router.add_get("/records", listed)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None, shutdown_timeout=0.1)


if __name__ == "__main__":
    main()
