"""The deployment files name only commands and settings that exist."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from captions.cli import _parser
from captions.gateway.http import APP_CSP
from captions.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def settings_variables() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        names.add(f"CAPTIONS_{name.upper()}")
        aliases = getattr(field.validation_alias, "choices", ())
        names.update(str(alias) for alias in aliases if str(alias).isupper())
    return names


def commands() -> set[str]:
    subparsers = next(a for a in _parser()._actions if a.dest == "command")
    return set(subparsers.choices)  # type: ignore[arg-type]


def compose_services(file: str = "docker-compose.yml") -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load((ROOT / file).read_text())
    services: dict[str, Any] = compose["services"]
    return services


def ours(service: dict[str, Any]) -> bool:
    """Built from our image's Python stages (nginx, redis and mongo are other programs)."""
    build = service.get("build", {})
    return bool(build) and build.get("target", "app") in ("app", "gpu")


@pytest.mark.parametrize("file", ["docker-compose.yml", "infra/compose.gpu.yml"])
def test_compose_services_use_real_commands_and_settings(file: str) -> None:
    known = settings_variables()
    for name, service in compose_services(file).items():
        if not ours(service):
            continue
        command = service.get("command", ["serve"])
        assert command[0] in commands(), f"{name}: no `captions {command[0]}`"
        for variable in service.get("environment", {}):
            assert variable in known, f"{name}: {variable} is not a setting"
    targets = set(
        re.findall(r"^FROM \S+ AS (\w+)", (ROOT / "infra/docker/Dockerfile").read_text(), re.MULTILINE)
    )
    for service in compose_services(file).values():
        if "build" in service:
            assert service["build"]["target"] in targets


def test_compose_runs_the_scale_out_deployment() -> None:
    services = compose_services()
    roles = {service.get("command", ["serve"])[0] for service in services.values() if ours(service)}
    assert {"gateway", "transcriber"} <= roles
    assert {"redis", "mongo", "nginx"} <= set(services)


def test_nginx_sends_socket_io_and_rest_to_every_gateway_and_only_there() -> None:
    config = (ROOT / "infra" / "nginx" / "nginx.conf").read_text()
    upstream = dict(re.findall(r"^\s*server ([\w-]+):(\d+)", config, re.MULTILINE))
    services = compose_services()
    gateways = {
        name: service["environment"]["CAPTIONS_PORT"]
        for name, service in services.items()
        if ours(service) and service.get("command", ["serve"])[0] == "gateway"
    }
    assert upstream == gateways
    assert "location /socket.io/" in config
    assert "proxy_set_header Upgrade $http_upgrade" in config
    assert "ip_hash" in config, "Socket.IO long-polling needs a client's requests on one gateway"
    routes = re.search(r"location ~ \^/\((.+?)\)", config)
    assert routes is not None
    assert {"api", "embed", "embed-assets"} <= set(routes.group(1).split("|"))


def test_nginx_keeps_metrics_internal_and_serves_the_app_with_its_headers() -> None:
    config = (ROOT / "infra" / "nginx" / "nginx.conf").read_text()
    routes = re.search(r"location ~ \^/\((.+?)\)", config)
    assert routes is not None
    assert "metrics" not in routes.group(1).split("|")
    assert re.search(r"location /metrics \{\s*return 404;", config)
    app = config[config.index("location / {") :]
    assert f'add_header Content-Security-Policy "{APP_CSP}" always;' in app
    assert 'add_header X-Content-Type-Options "nosniff" always;' in app


def test_gateways_trust_only_their_proxy_and_scrape_internally() -> None:
    for name, service in compose_services().items():
        if ours(service) and service.get("command", ["serve"])[0] == "gateway":
            environment = service["environment"]
            assert environment["CAPTIONS_TRUSTED_PROXIES"], name
            assert environment["CAPTIONS_METRICS_PORT"] != environment["CAPTIONS_PORT"], name
            assert "CAPTIONS_METRICS_TOKEN" not in environment, name


def test_dockerfile_sets_only_real_settings() -> None:
    dockerfile = (ROOT / "infra" / "docker" / "Dockerfile").read_text()
    used = set(re.findall(r"\b(CAPTIONS_[A-Z_]+)=", dockerfile))
    assert used
    assert used <= settings_variables()


def test_the_app_image_serves_the_web_build_it_copies() -> None:
    """An installed package cannot find the checkout's build: the image names where it put it."""
    dockerfile = (ROOT / "infra" / "docker" / "Dockerfile").read_text()
    app_stage = dockerfile.split(" AS app", 1)[1].split("\nFROM ", 1)[0]
    copied = re.search(r"COPY --from=web \S+/browser (\S+)", app_stage)
    named = re.search(r"CAPTIONS_WEB_DIR=(\S+)", app_stage)
    assert copied
    assert named
    assert copied[1] == named[1]


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    undocumented = [
        name for name in settings_variables() if name.startswith("CAPTIONS_") and name not in readme
    ]
    assert undocumented == []
