"""Destinations' settings are kept encrypted (AES-256-GCM): a stolen copy of the store does not hand out
meeting caption tokens, webhook secrets or OBS passwords. The key comes from ``CAPTIONS_SECRETS_KEY``, or, for
one process on a laptop, from a key file made once in the data directory."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from captions.settings import Settings

KEY_FILE = "secrets.key"
_PURPOSE = b"captions destinations v1"


class Sealer:
    def __init__(self, secret: str) -> None:
        digest = hashlib.sha256(_PURPOSE + secret.encode()).digest()
        self._cipher = AESGCM(digest)
        self._naming = hashlib.sha256(b"names:" + digest).digest()

    @classmethod
    def from_settings(cls, settings: Settings) -> Sealer:
        configured = settings.secrets_key.get_secret_value()
        return cls(configured or key_file(settings.data_dir / KEY_FILE))

    def seal(self, settings: dict[str, Any]) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._cipher.encrypt(nonce, _canonical(settings), _PURPOSE)
        return base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, sealed: str) -> dict[str, Any]:
        """Raises ``cryptography.exceptions.InvalidTag`` when sealed with another key (or altered)."""
        raw = base64.urlsafe_b64decode(sealed)
        opened: dict[str, Any] = json.loads(self._cipher.decrypt(raw[:12], raw[12:], _PURPOSE))
        return opened

    def name(self, settings: dict[str, Any]) -> str:
        """The same settings get the same id (a list saved again keeps its progress); it tells nothing of them."""
        return hmac.new(self._naming, _canonical(settings), hashlib.sha256).hexdigest()[:16]


def _canonical(settings: dict[str, Any]) -> bytes:
    return json.dumps(settings, sort_keys=True, separators=(",", ":")).encode()


def key_file(path: Path) -> str:
    """Made once, readable by its owner only, and whole before anyone can read it (written aside, then linked
    into place: of processes starting together, one key wins and all read it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(32))
        try:
            os.link(aside, path)
        except FileExistsError:
            pass
        finally:
            aside.unlink()
    return path.read_text().strip()
