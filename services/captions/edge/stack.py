"""``make stack``: the scaled-out deployment (Redis or a Redis Cluster, gateways, transcribers, nginx in front)
as processes on this machine, without Docker. The processes are written into a Procfile and run by honcho in
the foreground, their output prefixed with their names; Ctrl+C or SIGTERM stops every one of them. The same
topology, settings and nginx config as ``docker-compose.yml``."""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from captions.destinations.sealing import key_file
from captions.edge.nginx import Site, command, self_signed_certificate, write_site
from captions.settings import WEB_BUILD

CLUSTER_NODES = 6  # three masters with a replica each: any one node may fail


@dataclass(frozen=True)
class Stack:
    folder: Path
    gateways: int = 2
    transcribers: int = 1
    redis_cluster: bool = False
    port: int = 8443  # nginx, https
    http_port: int = 8080  # nginx, redirects to https
    service_port: int = 8101  # gateways from here, transcribers' metrics after them
    redis_port: int = 6390  # the cluster's nodes from here (their bus ports 10000 above)
    web_root: Path = WEB_BUILD

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def redis_ports(self) -> list[int]:
        return [self.redis_port + n for n in range(CLUSTER_NODES if self.redis_cluster else 1)]

    def environment(self) -> dict[str, str]:
        """What every captions process of the stack shares (each adds its port and name)."""
        return {
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "CAPTIONS_REDIS_CLUSTER": str(self.redis_cluster).lower(),
            "CAPTIONS_DATA_DIR": str(self.folder / "data"),
            "CAPTIONS_WEB_DIR": str(self.web_root),
            "CAPTIONS_PUBLIC_URL": self.url,
            # Client addresses come from nginx's X-Forwarded-For, believed only from nginx itself.
            "CAPTIONS_TRUSTED_PROXIES": json.dumps(["127.0.0.1/32"]),
            # Destinations' secrets are sealed by a gateway and opened by a transcriber: one key for all.
            "CAPTIONS_SECRETS_KEY": key_file(self.folder / "secrets.key"),
        }

    def write(self) -> Path:
        """The certificate (made once), nginx's site and the Procfile; returns the Procfile."""
        certificate, key = self_signed_certificate(self.folder / "tls")
        gateway_ports = [self.service_port + n for n in range(self.gateways)]
        site = Site(
            gateways=[f"127.0.0.1:{port}" for port in gateway_ports],
            http_port=self.http_port,
            https_port=self.port,
            certificate=certificate,
            key=key,
            web_root=self.web_root,
        )
        nginx_dir = self.folder / "nginx"
        write_site(nginx_dir, site)
        processes = dict(self._redis())
        for number, port in enumerate(gateway_ports, start=1):
            processes[f"gateway-{number}"] = _captions("gateway", f"gateway-{number}", port)
        for number in range(1, self.transcribers + 1):
            port = self.service_port + self.gateways + number - 1
            processes[f"transcriber-{number}"] = _captions("transcriber", f"transcriber-{number}", port)
        processes["nginx"] = shlex.join(command(nginx_dir))
        procfile = self.folder / "Procfile"
        procfile.write_text("".join(f"{name}: {line}\n" for name, line in processes.items()))
        return procfile

    def _redis(self) -> list[tuple[str, str]]:
        ports = self.redis_ports()
        if not self.redis_cluster:
            return [("redis", _redis_server(self.folder / "redis", ports[0]))]
        options = ("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                   "--cluster-node-timeout", "5000")  # fmt: skip
        nodes = [
            (f"redis-{n}", _redis_server(self.folder / f"redis-{n}", port, *options))
            for n, port in enumerate(ports, start=1)
        ]
        cluster = [sys.executable, "-m", "captions.cli", "redis-cluster", *map(str, ports)]
        return [*nodes, ("redis-cluster", shlex.join(cluster))]


def _redis_server(folder: Path, port: int, *options: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    return shlex.join(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--loglevel", "warning",
         "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", *options]
    )  # fmt: skip


def _captions(role: str, name: str, port: int) -> str:
    """The service, once Redis (or the cluster) is there."""
    captions = [sys.executable, "-m", "captions.cli"]
    run = f"{shlex.join([*captions, 'wait-for-redis'])} && exec {shlex.join([*captions, role])}"
    return shlex.join(["env", f"CAPTIONS_PORT={port}", f"CAPTIONS_INSTANCE_NAME={name}", "sh", "-c", run])
