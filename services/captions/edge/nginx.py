"""The bundled nginx config (``infra/nginx``) made ready to run on this machine: the site-specific files it
includes (the gateways' addresses, the ports, the certificate, the web app's folder) written beside links to
the repository's own files, and a self-signed certificate where none is given."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parents[3] / "infra" / "nginx"
MIME_TYPES = Path("/etc/nginx/mime.types")


@dataclass(frozen=True)
class Site:
    gateways: Sequence[str]  # host:port of each gateway (or of one ``captions serve``)
    http_port: int  # redirects to https
    https_port: int
    certificate: Path
    key: Path
    web_root: Path
    host: str = "127.0.0.1"


def write_site(folder: Path, site: Site) -> Path:
    """``folder`` becomes nginx's configuration folder and prefix; returns its main file."""
    (folder / "site").mkdir(parents=True, exist_ok=True)
    (folder / "temp").mkdir(exist_ok=True)
    for config in CONFIG_DIR.glob("*.conf"):
        _link(folder / config.name, config)
    _link(folder / "mime.types", MIME_TYPES)
    https_port = "" if site.https_port == 443 else f":{site.https_port}"
    files = {
        # One failed attempt sends a gateway's share to the others for 5 s (its clients reconnect there).
        "gateways.conf": "".join(
            f"server {address} max_fails=1 fail_timeout=5s;\n" for address in site.gateways
        ),
        "listen-http.conf": f'listen {site.host}:{site.http_port};\nset $captions_https_port "{https_port}";\n',
        "listen-https.conf": (
            f"listen {site.host}:{site.https_port} ssl;\n"
            f"ssl_certificate {site.certificate};\nssl_certificate_key {site.key};\n"
        ),
        "root.conf": f"root {site.web_root};\n",
    }
    for name, text in files.items():
        (folder / "site" / name).write_text(text)
    return folder / "nginx.conf"


def command(folder: Path) -> list[str]:
    """nginx in the foreground on ``folder`` (as written by ``write_site``), logging to stderr."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    return [binary, "-p", f"{folder}/", "-c", str(folder / "nginx.conf"), "-e", "stderr", "-g", "daemon off;"]


def self_signed_certificate(
    folder: Path, names: Sequence[str] = ("localhost", "127.0.0.1")
) -> tuple[Path, Path]:
    """A certificate for ``names``, made once (kept across runs so that a browser told to trust it once
    stays told)."""
    certificate, key = folder / "cert.pem", folder / "key.pem"
    if certificate.exists() and key.exists():
        return certificate, key
    folder.mkdir(parents=True, exist_ok=True)
    alt = ",".join(f"IP:{name}" if name.replace(".", "").isdigit() else f"DNS:{name}" for name in names)
    subprocess.run(
        # ECDSA P-256: a TLS handshake costs the server a fraction of an RSA-2048 one, and a handshake storm is
        # paid for in handshakes.
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "825",
         "-subj", f"/CN={names[0]}", "-addext", f"subjectAltName={alt}",
         "-keyout", str(key), "-out", str(certificate)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    key.chmod(0o600)
    return certificate, key


def _link(path: Path, target: Path) -> None:
    if path.is_symlink() or path.exists():
        path.unlink()
    path.symlink_to(target)
