"""The HTTP layer in front of the app: whose address a request comes from, and where links may point."""

from __future__ import annotations

from typing import Any

import pytest

from captions.gateway.api.rooms import host_allowed
from captions.gateway.http import ClientAddress, trusted_networks


async def address_seen(peer: str, forwarded: str | None, trusted: list[str]) -> str:
    seen: dict[str, Any] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.update(scope)

    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    scope = {"type": "http", "client": (peer, 5000), "headers": headers}
    await ClientAddress(app, trusted_networks(trusted))(scope, None, None)  # type: ignore[arg-type]
    return str(seen["client"][0])


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "client"),
    [
        ("198.51.100.7", "203.0.113.9", [], "198.51.100.7"),  # no proxy trusted: the header is ignored
        ("198.51.100.7", "203.0.113.9", ["10.0.0.0/8"], "198.51.100.7"),  # the peer is not the proxy
        ("10.0.0.2", "203.0.113.9", ["10.0.0.0/8"], "203.0.113.9"),
        (
            "10.0.0.2",
            "1.2.3.4, 203.0.113.9",
            ["10.0.0.0/8"],
            "203.0.113.9",
        ),  # a client's own entry comes first
        ("10.0.0.2", "203.0.113.9, 10.0.0.5", ["10.0.0.0/8"], "203.0.113.9"),  # two proxies
        ("10.0.0.2", "", ["10.0.0.0/8"], "10.0.0.2"),
        (
            "10.0.0.2",
            "not-an-address",
            ["10.0.0.0/8"],
            "not-an-address",
        ),  # kept as a key, trusted for nothing
        ("::1", "2001:db8::1", ["::1"], "2001:db8::1"),
    ],
)
async def test_the_client_address_comes_from_a_trusted_proxy_only(
    peer: str, forwarded: str, trusted: list[str], client: str
) -> None:
    assert await address_seen(peer, forwarded, trusted) == client


@pytest.mark.parametrize(
    ("host", "allowed", "ok"),
    [
        ("localhost:8000", ["localhost"], True),
        ("LOCALHOST", ["localhost"], True),
        ("[::1]:8000", ["[::1]"], True),
        ("evil.example", ["localhost"], False),
        ("localhost.evil.example", ["localhost"], False),
        ("anything:1", ["*"], True),
        ("", ["localhost"], False),
    ],
)
def test_links_are_built_from_allowed_hosts_only(host: str, allowed: list[str], ok: bool) -> None:
    assert host_allowed(host, allowed) is ok
