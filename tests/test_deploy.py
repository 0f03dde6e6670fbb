"""The deployment files, checked with tools that run without Docker or a cluster.

What is run here: `docker-compose config` (the compose file parses, every
required secret is enforced), `haproxy -c` (both balancer configurations),
Kubernetes' own schemas for 1.28 (kubernetes-validate, strict: unknown fields
fail). What is not: building the image, starting containers or pods.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.conftest import PROJECT_ROOT
from tools.cluster import COMPOSE_HAPROXY, ClusterPorts, compose_haproxy, render_haproxy

DEPLOY = PROJECT_ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
SECRETS = {name: "x" * 40 for name in ("PREPAGO_JWT_SECRET", "RASA_API_TOKEN", "PREPAGO_PIN_PEPPER",
                                        "PREPAGO_ACTION_TOKEN", "POSTGRES_PASSWORD", "PREPAGO_HAPROXY_COOKIE_KEY")}


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is needed: `make test` installs it (scripts/ensure-tools.sh)")
    return path


def compose_config(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS}
    return subprocess.run([tool("docker-compose"), "-f", str(COMPOSE), "config"], env={**clean, **env},
                          capture_output=True, text=True, timeout=60)


def test_compose_file_is_valid_and_wires_the_topology():
    result = compose_config(SECRETS)
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    assert {"rasa", "actions", "haproxy", "console", "postgres", "redis", "migrate"} <= set(services)
    assert services["rasa"]["deploy"]["replicas"] >= 2
    env = services["rasa"]["environment"]
    assert env["PREPAGO_ACTIONS_URL"].startswith("http://haproxy:")
    # Only the load balancer is published, and the staff console on the host's loopback;
    # replicas, databases and Redis are not.
    published = {name: service["ports"] for name, service in services.items() if service.get("ports")}
    assert set(published) == {"haproxy", "console"}
    # docker-compose prints a published port as "127.0.0.1:8090:8090" or as a mapping, by version.
    assert all((port.get("host_ip") if isinstance(port, dict) else port.split(":")[0]) == "127.0.0.1"
               for port in published["console"])


def test_compose_refuses_to_start_without_each_secret():
    for name in SECRETS:
        result = compose_config({k: v for k, v in SECRETS.items() if k != name})
        assert result.returncode != 0 and name in result.stderr, name


def test_both_haproxy_configurations_pass_haproxy_check(tmp_path):
    assert COMPOSE_HAPROXY.read_text().split("\n", 1)[1] == compose_haproxy(), \
        "deploy/haproxy/haproxy.cfg is stale: run `.venv/bin/bot cluster --render-compose`"
    local = tmp_path / "local.cfg"
    ports = ClusterPorts()
    local.write_text(render_haproxy([f"server rasa{i} 127.0.0.1:{p} check" for i, p in enumerate(ports.replicas)],
                                    ["server actions1 127.0.0.1:5151 check"], "127.0.0.1", 5005, 5055))
    for path in (COMPOSE_HAPROXY, local):
        result = subprocess.run([tool("haproxy"), "-c", "-f", str(path)], capture_output=True, text=True,
                                env={**os.environ, "PREPAGO_HAPROXY_COOKIE_KEY": "k" * 32}, timeout=30)
        assert result.returncode == 0, result.stdout + result.stderr


def test_kubernetes_manifests_match_the_schemas_strictly():
    manifests = sorted(str(p) for p in (DEPLOY / "k8s").glob("*.yaml"))
    result = subprocess.run([sys.executable, "-m", "kubernetes_validate", "--strict", "-k", "1.28.0", *manifests],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed") >= 8


def test_memory_requests_cover_the_measured_peak():
    """Requests come from `make bench`: a pod asks for at least what it was seen to use."""
    measured = json.loads((PROJECT_ROOT / "benchmarks" / "results.json").read_text())["speed"]["ours"]["peak_rss_mib"]
    for manifest, container, key in (("rasa.yaml", "rasa", "rasa"), ("actions.yaml", "actions", "actions")):
        docs = list(yaml.safe_load_all((DEPLOY / "k8s" / manifest).read_text()))
        spec = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]
        resources = next(c for c in spec["containers"] if c["name"] == container)["resources"]
        request = int(re.fullmatch(r"(\d+)Mi", resources["requests"]["memory"]).group(1))
        limit = int(re.fullmatch(r"(\d+)Mi", resources["limits"]["memory"]).group(1))
        assert measured[key] <= request < limit, (manifest, measured[key], request, limit)


def test_the_public_ingress_exposes_only_the_customer_channels():
    ingress = yaml.safe_load((DEPLOY / "k8s" / "ingress.yaml").read_text())
    paths = {p["path"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]}
    assert paths == {"/socket.io/", "/webhooks/prepago/", "/webhooks/prepago_socketio/", "/webhooks/whatsapp/",
                     "/webhooks/telegram/", "/webhooks/messenger/"}  # never the staff relay or Rasa's API


def test_the_consoles_memory_request_covers_its_measured_peak():
    results = json.loads((PROJECT_ROOT / "benchmarks" / "results.json").read_text())
    measured = results["handoff"]["console_rss_mib"]
    docs = list(yaml.safe_load_all((DEPLOY / "k8s" / "console.yaml").read_text()))
    resources = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert measured <= int(resources["requests"]["memory"].removesuffix("Mi"))


def test_dockerfile_copies_only_what_exists_and_runs_unprivileged():
    text = (DEPLOY / "Dockerfile").read_text()
    for line in re.findall(r"^COPY (?!--from=)(.+)$", text, flags=re.M):  # not what an earlier stage built
        *sources, _ = line.split()
        for source in sources:
            assert (PROJECT_ROOT / source).exists(), source
    assert re.search(r"^USER 10001$", text, flags=re.M)
    # The replica's command uses the production endpoints file, which exists.
    assert "deploy/endpoints.yml" in text and (DEPLOY / "endpoints.yml").exists()
