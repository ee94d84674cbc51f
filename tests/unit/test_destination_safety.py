"""Where a room may make the server send captions (no SSRF), and how its secrets are kept (sealed at rest)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from captions.destinations.addresses import DestinationRefused, GuardedResolver, public, resolve
from captions.destinations.sealing import Sealer, key_file


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),
        ("10.20.30.40", False),
        ("172.16.0.1", False),
        ("192.168.1.20", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fd00:ec2::254", False),
        ("fe80::1%eth0", False),
        ("::ffff:127.0.0.1", False),  # loopback written as IPv6
        ("::ffff:8.8.8.8", True),
    ],
)
def test_only_public_unicast_addresses_are_destinations(address: str, allowed: bool) -> None:
    assert public(address) is allowed


async def test_a_name_is_refused_when_it_resolves_to_a_private_address_unless_allowed() -> None:
    with pytest.raises(DestinationRefused, match="private"):
        await resolve("localhost", 80, allow_private=False)
    assert "127.0.0.1" in await resolve("localhost", 80, allow_private=True)
    with pytest.raises(DestinationRefused, match="does not resolve"):
        await resolve("captions.invalid", 80, allow_private=True)


async def test_the_http_clients_resolver_refuses_a_private_address_at_connection_time() -> None:
    """A name checked when saved may resolve elsewhere later: each connection checks again."""
    guarded = GuardedResolver(allow_private=False)
    try:
        with pytest.raises(OSError, match="refused"):
            await guarded.resolve("localhost", 80)
    finally:
        await guarded.close()


def test_sealed_settings_open_only_with_their_key_and_tell_nothing() -> None:
    settings = {"kind": "webhook", "url": "https://hooks.example.com/x", "secret": "a-webhook-secret-value"}
    sealer = Sealer("the operator's key")
    sealed = sealer.seal(settings)
    assert "a-webhook-secret-value" not in sealed
    assert "hooks.example.com" not in sealed
    assert sealer.seal(settings) != sealed, "a fresh nonce each time"
    assert sealer.open(sealed) == settings
    with pytest.raises(InvalidTag):
        Sealer("another key").open(sealed)
    assert sealer.name(settings) == Sealer("the operator's key").name(dict(reversed(settings.items())))
    assert sealer.name(settings) != Sealer("another key").name(settings)
    assert sealer.name(settings) != sealer.name({**settings, "secret": "another-secret-value"})


def test_the_key_file_is_made_once_and_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "data" / "secrets.key"
    first = key_file(path)
    assert len(first) >= 40
    assert key_file(path) == first
    assert path.stat().st_mode & 0o077 == 0
