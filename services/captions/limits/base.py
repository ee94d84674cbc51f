"""Limits that hold across reconnects and processes: token buckets and connection slots, keyed by what a
limit is about (a room, a client address), never by a connection (a reconnect would refill it).

In one process the counts live in memory; in the scale-out deployment in Redis, so every gateway sees the
same counts. Keys are built here so that no secret (a presenter key, a viewer token) is ever part of one.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Budget:
    """What a write must find in the bucket ``key`` to be made (see ``Limiter.take``)."""

    key: str
    rate: float
    burst: float
    amount: float


class Limiter(Protocol):
    """Every implementation passes tests/contract/test_limiter.py."""

    async def take(self, key: str, rate: float, burst: float, amount: float = 1.0) -> float:
        """Take ``amount`` from the bucket ``key`` (``rate`` per second, holding at most ``burst``).
        0 when taken; otherwise nothing is taken and the result is how many seconds until it would be."""
        ...

    async def hold(self, key: str, holder: str, limit: int) -> bool:
        """Give ``holder`` one of ``limit`` slots of ``key`` (an open connection); False when all are held.
        Slots of a process that died free themselves (``refresh`` keeps this process's alive)."""
        ...

    async def release(self, key: str, holder: str) -> None:
        """Frees a slot this process took."""
        ...

    async def release_anywhere(self, key: str, holder: str) -> None:
        """Frees ``holder``'s slot whichever process took it (costs a look at every holder of ``key``)."""
        ...

    async def refresh(self) -> None:
        """Keep this process's slots held (called more often than slots expire)."""
        ...


# The room id or address is a Redis hash tag: a room's buckets share the slot of its other keys on a cluster.
def address_key(kind: str, address: str) -> str:
    return f"{kind}:addr:{{{limited_as(address)}}}"


def limited_as(address: str) -> str:
    """Who a client address is for the limits: an IPv6 client is its /64 (one subscriber is given a whole /64
    and may use any of its 2^64 addresses), an IPv4-mapped one its IPv4 address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return address


def organizer_key(kind: str, organizer_id: str) -> str:
    return f"{kind}:org:{{{organizer_id}}}"


def room_key(kind: str, room_id: str) -> str:
    return f"{kind}:room:{{{room_id}}}"
