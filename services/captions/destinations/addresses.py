"""No SSRF: a room's presenter chooses where the server sends captions, so a destination may only be on the
public internet unless the operator allows private ones (``CAPTIONS_DESTINATIONS_ALLOW_PRIVATE``: OBS on the
presenter's own network, tests). The check is made on the addresses actually connected to (a resolver for the
HTTP client, and before each OBS connection), so a name that resolves elsewhere later is caught too."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver


class DestinationRefused(Exception):
    """The destination's address is not one the server may send to; the message says why (no address)."""


def public(address: str) -> bool:
    """A global unicast address: not loopback, private, link-local (cloud metadata), shared, reserved or
    multicast; an IPv4-mapped IPv6 address is judged as the IPv4 one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def resolve(host: str, port: int, allow_private: bool) -> list[str]:
    """The addresses ``host`` may be reached at; raises DestinationRefused when there are none, or when any is
    not public (a name that mixes public and private addresses is refused whole)."""
    try:
        found = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except (OSError, UnicodeError) as error:
        raise DestinationRefused("its host name does not resolve") from error
    addresses = list(dict.fromkeys(str(entry[4][0]) for entry in found))
    if not addresses:
        raise DestinationRefused("its host name does not resolve")
    if not allow_private and not all(public(address) for address in addresses):
        raise DestinationRefused(
            "it is on a private, loopback or link-local address (allowed only with "
            "CAPTIONS_DESTINATIONS_ALLOW_PRIVATE)"
        )
    return addresses


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver with the rule above: a connection is never opened to an address that is refused."""

    def __init__(self, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._resolver = ThreadedResolver()

    async def resolve(self, host: str, port: int = 0, family: Any = socket.AF_INET) -> list[ResolveResult]:
        found = await self._resolver.resolve(host, port, family)
        if not self._allow_private and not all(public(entry["host"]) for entry in found):
            raise OSError("refused: not a public address")
        return found

    async def close(self) -> None:
        await self._resolver.close()
