"""The deployment files name only commands and settings that exist."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from captions.cli import _parser
from captions.edge.stack import Stack
from captions.gateway.http import APP_CSP
from captions.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
NGINX = ROOT / "infra" / "nginx"


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


def nginx_file(name: str) -> str:
    return (NGINX / name).read_text()


def site_includes() -> set[str]:
    configs = " ".join(nginx_file(path.name) for path in NGINX.glob("*.conf"))
    return set(re.findall(r"include site/([\w.-]+);", configs))


def gateway_services() -> dict[str, Any]:
    return {
        name: service
        for name, service in compose_services().items()
        if ours(service) and service.get("command", ["serve"])[0] == "gateway"
    }


def test_compose_and_the_stack_fill_in_the_same_site_files(tmp_path: Path) -> None:
    """nginx's own files are the repository's in both; only the site files differ, and both write all of them."""
    written = Stack(tmp_path, gateways=2).write()
    assert written.exists()
    assert {path.name for path in (tmp_path / "nginx" / "site").iterdir()} == site_includes()
    assert {path.name for path in (NGINX / "compose").iterdir()} == site_includes()
    nginx_stage = (
        (ROOT / "infra/docker/Dockerfile").read_text().split(" AS nginx", 1)[1].split("\nFROM ", 1)[0]
    )
    assert "COPY infra/nginx/nginx.conf infra/nginx/captions*.conf /etc/nginx/" in nginx_stage
    assert "COPY infra/nginx/compose/ /etc/nginx/site/" in nginx_stage


def test_compose_and_the_stack_agree_on_topology_and_settings(tmp_path: Path) -> None:
    stack = Stack(tmp_path)
    gateways = gateway_services()
    upstream = dict(re.findall(r"^server ([\w-]+):(\d+)", nginx_file("compose/gateways.conf"), re.MULTILINE))
    assert upstream == {name: service["environment"]["CAPTIONS_PORT"] for name, service in gateways.items()}
    assert len(gateways) == stack.gateways
    assert compose_services()["transcriber"]["deploy"]["replicas"] == stack.transcribers
    shared = {"REDIS_URL", "CAPTIONS_PUBLIC_URL", "CAPTIONS_TRUSTED_PROXIES", "CAPTIONS_SECRETS_KEY"}
    assert shared <= set(stack.environment())
    assert "CAPTIONS_SECRETS_KEY" in compose_services()["transcriber"]["environment"], (
        "opens what gateways seal"
    )
    nginx = compose_services()["nginx"]
    https_port = re.search(r'set \$captions_https_port ":(\d+)";', nginx_file("compose/listen-http.conf"))
    assert https_port is not None
    assert f"{https_port[1]}:443" in nginx["ports"]
    assert any(volume.endswith(":/etc/nginx/tls:ro") for volume in nginx["volumes"])
    for name, service in gateways.items():
        assert shared <= set(service["environment"]), name
        assert service["environment"]["CAPTIONS_PUBLIC_URL"] == f"https://localhost:{https_port[1]}", name
    assert stack.environment()["CAPTIONS_PUBLIC_URL"].startswith("https://")


def test_nginx_keeps_metrics_internal_and_serves_the_app_with_its_headers() -> None:
    config = nginx_file("captions.conf")
    routes = re.search(r"location ~ \^/\((.+?)\)", config)
    assert routes is not None
    assert {"api", "embed", "embed-assets", "healthz"} <= set(routes.group(1).split("|"))
    assert "metrics" not in routes.group(1).split("|")
    assert re.search(r"location = /metrics \{[^}]*return 404;", config)
    assert f'add_header Content-Security-Policy "{APP_CSP}" always;' in nginx_file(
        "captions-page-headers.conf"
    )
    assert "include captions-page-headers.conf;" in config[config.index("location / {") :]


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
