"""The deployment files, checked with tools that run without Docker or a cluster.

What is run here: `docker-compose config` (the compose file parses, every
required secret is enforced), `haproxy -c` (both balancer configurations),
Kubernetes' own schemas for 1.28 (kubernetes-validate, strict: unknown fields
fail), and the facts compose and Kubernetes share (commands, ports, probes,
environment). Building the image and running the stack: tests/test_deploy_stack.py
(`make test-deploy`). No Kubernetes server runs here.
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


# --- compose and Kubernetes: the facts they share must not drift ------------------------------

# Compose service -> (Kubernetes manifest, container). The same image and roles in both.
SHARED_ROLES = {"rasa": ("rasa.yaml", "rasa"), "actions": ("actions.yaml", "actions"),
                "console": ("console.yaml", "console"), "alerts": ("alerts.yaml", "alerts"),
                "migrate": ("migrate-job.yaml", "migrate")}
# Where Kubernetes takes them from the Secret prepago-secrets (config.yaml says so), not the ConfigMap.
K8S_SECRETS = {"PREPAGO_JWT_SECRET", "RASA_API_TOKEN", "PREPAGO_PIN_PEPPER", "PREPAGO_ACTION_TOKEN",
               "PREPAGO_DATABASE_URL", "PREPAGO_TRACKER_DB_PASSWORD", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN",
               "TWILIO_WHATSAPP_NUMBER", "TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET",
               "MESSENGER_PAGE_ACCESS_TOKEN", "MESSENGER_APP_SECRET", "MESSENGER_VERIFY_TOKEN"}
# Differences on purpose, each with its reason.
K8S_ONLY = {"PREPAGO_CONSOLE_SECURE_COOKIE"}  # the cluster's console is behind HTTPS; compose's on loopback
# Each platform's own private network and DNS names (URLs are compared without their hosts).
DIFFERENT_VALUES = {"PREPAGO_TRUSTED_PROXIES", "PREPAGO_TRACKER_DB_HOST"}
COMPOSE_ONLY = {"SANIC_HOST"}  # the image's rasa-sdk binds every interface only when told so in compose


def k8s_container(manifest: str, name: str) -> dict:
    for doc in yaml.safe_load_all((DEPLOY / "k8s" / manifest).read_text()):
        spec = doc.get("spec", {})
        template = spec.get("template") or spec.get("jobTemplate", {}).get("spec", {}).get("template")
        for container in (template or {}).get("spec", {}).get("containers", []):
            if container["name"] == name:
                return container
    raise AssertionError(f"{manifest} has no container {name}")


def dockerfile_cmd() -> list[str]:
    text = (DEPLOY / "Dockerfile").read_text()
    return json.loads(re.search(r"^CMD (\[.*?\])$", text, flags=re.M | re.S).group(1).replace("\\\n", ""))


def without_hosts(value):
    """`http://haproxy:5005/x` and `http://prepago-rasa:5005/x`, or `console:8090` and `prepago-console:8090`:
    the same fact (port and path) under each platform's service names."""
    if isinstance(value, list):
        return [without_hosts(v) for v in value]
    value = re.sub(r"(\w+://)(?:[^@/]*@)?[^:/]+", r"\1*", str(value))
    # A bare `host:port` list (PREPAGO_CONSOLE_HOSTS): the console's service name differs, the port not.
    return re.sub(r"(?<![\w/*.-])[a-z][\w.-]*:(\d+)", r"*:\1", value)


def compose_services() -> dict:
    result = compose_config(SECRETS)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["services"]


def test_compose_and_kubernetes_run_the_same_commands_ports_and_probes():
    services = compose_services()
    for service, (manifest, name) in SHARED_ROLES.items():
        container = k8s_container(manifest, name)
        compose_cmd = services[service].get("command") or dockerfile_cmd()
        k8s_cmd = container.get("command", []) + container.get("args", []) or dockerfile_cmd()
        assert without_hosts(compose_cmd) == without_hosts(k8s_cmd), service
        check = services[service].get("healthcheck")
        probe = container.get("readinessProbe")
        assert bool(check) == bool(probe), f"{service}: a health check in one and not the other"
        if check:
            url = re.search(r"http://127\.0\.0\.1:(\d+)(/[^'\"]*)", " ".join(check["test"]))
            ports = {p["name"]: p["containerPort"] for p in container["ports"]}
            assert (int(url.group(1)), url.group(2)) == (ports[probe["httpGet"]["port"]], probe["httpGet"]["path"]), service
    # What HAProxy publishes in compose is what the Services offer in Kubernetes.
    assert [p["target"] if isinstance(p, dict) else int(p.split(":")[-1]) for p in services["haproxy"]["ports"]] \
        == [k8s_container("rasa.yaml", "rasa")["ports"][0]["containerPort"]]


def test_compose_and_kubernetes_give_the_same_environment():
    services = compose_services()
    compose_env = services["rasa"]["environment"]
    config = yaml.safe_load((DEPLOY / "k8s" / "config.yaml").read_text())
    configmap = config["data"]
    assert set(compose_env) - COMPOSE_ONLY == (set(configmap) - K8S_ONLY) | K8S_SECRETS, \
        "an environment variable is set in one of deploy/docker-compose.yml and deploy/k8s/config.yaml only"
    for key in set(configmap) - K8S_ONLY - DIFFERENT_VALUES:
        assert without_hosts(compose_env[key]) == without_hosts(configmap[key]), key
    # Every role gets the whole environment in both.
    for service, (manifest, name) in SHARED_ROLES.items():
        assert set(services[service]["environment"]) >= set(compose_env) - COMPOSE_ONLY, service
        assert {ref.get("configMapRef", ref.get("secretRef"))["name"] for ref in k8s_container(manifest, name)["envFrom"]} \
            == {"prepago-config", "prepago-secrets"}, manifest
