"""nginx keys its limits by client as the gateways do: an IPv6 /64 is one client, an IPv4 address one.

The bundled map (infra/nginx/captions-client.conf), run by a real nginx. Clients here can only come from
loopback, so nginx takes the address to key from a header (its realip module, trusted from 127.0.0.1 in this
test's config only): the address reaches the map as nginx's own canonical text, as a connection's would.
"""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
from collections.abc import Iterator

import httpx
import pytest

from captions.edge.nginx import CONFIG_DIR
from captions.limits.base import limited_as
from tests.support.processes import free_port, wait_until

PREFIXES = [  # /64s with zero groups wherever a "::" can take them
    "2001:db8:a:b", "2001:db8:0:0", "2001:db8:1:0", "2001:0:0:5", "2001:0:0:0", "0:0:0:0", "0:0:1:2",
    "0:0:0:7", "fe80:0:0:0", "2a02:8109:9b40:3e00", "0:5:0:0", "1:0:0:0",
]  # fmt: skip
INTERFACE_IDS = [
    "1:2:3:4",
    "0:0:0:1",
    "1:0:0:0",
    "0:0:0:0",
    "0:1:0:0",
    "abcd:0:0:ef",
    "0:0:1:0",
    "ffff:0:0:0",
]
IPV4 = ["127.0.0.1", "198.51.100.7", "198.51.100.8", "::ffff:198.51.100.7"]


@pytest.fixture(scope="module")
def keyer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("nginx")
    if binary is None:
        pytest.skip("nginx is not installed (make test installs it with apt-get)")
    folder = tmp_path_factory.mktemp("nginx-clients")
    port = free_port()
    (folder / "nginx.conf").write_text(
        f"""pid nginx.pid;
error_log stderr warn;
events {{}}
http {{
    access_log off;
    client_body_temp_path temp;
    proxy_temp_path temp;
    fastcgi_temp_path temp;
    uwsgi_temp_path temp;
    scgi_temp_path temp;
    include {CONFIG_DIR / "captions-client.conf"};
    server {{
        listen 127.0.0.1:{port};
        set_real_ip_from 127.0.0.1;
        real_ip_header X-Client-Address;
        location / {{ return 200 "$captions_client"; }}
    }}
}}
"""
    )
    (folder / "temp").mkdir()
    command = [
        binary,
        "-p",
        f"{folder}/",
        "-c",
        str(folder / "nginx.conf"),
        "-e",
        "stderr",
        "-g",
        "daemon off;",
    ]
    process = subprocess.Popen(command, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/"

    def answers() -> bool:
        assert process.poll() is None, process.stderr.read() if process.stderr else "nginx exited"
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(answers, "nginx", 10)
    yield url
    process.terminate()
    process.wait(timeout=10)


def test_nginx_counts_an_ipv6_64_as_one_client_and_each_ipv4_address_as_its_own(keyer: str) -> None:
    addresses = [
        str(ipaddress.IPv6Address(f"{prefix}:{interface}"))
        for prefix in PREFIXES
        for interface in INTERFACE_IDS
    ] + IPV4
    with httpx.Client() as http:
        keys = {address: http.get(keyer, headers={"X-Client-Address": address}).text for address in addresses}
    by_nginx: dict[str, set[str]] = {}
    for address, key in keys.items():
        by_nginx.setdefault(key, set()).add(limited_as(address))
    assert all(len(clients) == 1 for clients in by_nginx.values()), (
        f"one nginx key, several clients: {by_nginx}"
    )
    assert len(by_nginx) == len({limited_as(address) for address in addresses}), "one client, several keys"
    assert keys["198.51.100.7"] == keys["::ffff:198.51.100.7"] == "198.51.100.7"
