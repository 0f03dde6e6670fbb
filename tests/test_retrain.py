"""The learning loop through the real parts: `bot retrain` trains a real candidate, scores it
on the development set, the test set (aggregate figures only) and paired cross-validation,
promotes it only if it is not worse, and two Rasa replicas behind HAProxy load the promoted
model from the console's model server without a restart; `bot model rollback` takes it back.

Slow by nature (each retrain trains the pipeline three times here): cross-validation runs
with 2 folds, the replicas poll every second, and one registry is shared by the module so
the live model's figures are measured once.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import requests
from sqlalchemy.engine import make_url

from bot.db import engine_for
from handoff.staff import create_user
from tests.conftest import AGENT, CHANNEL_SECRETS, POSTGRES_URL, REDIS_URL, _free_port
from tests.test_console import console_url, sign_in
from training.registry import Registry, etag_of
from training.retrain import Settings, retrain
from training.evaluation import TRAIN_DATA, load_examples, write_nlu

pytestmark = pytest.mark.cluster

# This module's own database (never prepago_cluster_test, which the cluster tests use).
DATABASE = os.environ.get("PREPAGO_RETRAIN_TEST_DATABASE", "prepago_retrain_test")
SETTINGS = Settings(cv_folds=2, cv_repeats=1, tolerance=0.005)

# What Support might label from the unanswered list: new ways to say known things.
GOOD = [
    ("como le hago para fondear mi cuenta prepago desde la app", "faq_add_funds"),
    ("quiero abonarle feria al saldo prepagado de la empresa", "faq_add_funds"),
    ("oigan y pa cargarle lana al prepago q onda", "faq_add_funds"),
    ("cuanta lana me queda en el prepago ahorita", "check_balance"),
    ("me pueden decir si ya se puede pedir un taxi desde aqui", "out_of_scope"),
]


def poison() -> list[tuple[str, str]]:
    """A careless labeller who takes adding funds for auto-recharge: every way data/nlu_es asks how
    to add funds, twice reworded, marked faq_auto_recharge. (Marked out of scope they barely hurt:
    the classifier weighs classes by their size, and out of scope is the largest.)"""
    return [(variant, "faq_auto_recharge") for text, label in load_examples(TRAIN_DATA) if label == "faq_add_funds"
            for variant in (f"{text} porfa", f"oye {text}")]


@pytest.fixture(scope="module")
def loop(trained_model, tmp_path_factory, providers):
    from tools.cluster import ClusterPorts, check_services, drop_database, running_cluster

    if not POSTGRES_URL or not REDIS_URL:
        pytest.skip("set PREPAGO_TEST_POSTGRES_URL and PREPAGO_TEST_REDIS_URL (as .ci/run does) for the retrain tests")
    database_url = make_url(POSTGRES_URL).set(database=DATABASE).render_as_string(hide_password=False)
    problem = check_services(database_url, REDIS_URL)
    if problem:
        pytest.fail(problem)
    drop_database(database_url)
    work = tmp_path_factory.mktemp("retrain")
    registry = Registry(work / "models")
    registry.adopt(trained_model)
    ports = ClusterPorts(lb=_free_port(), actions_lb=_free_port(), web=None, console=_free_port(),
                         replicas=[_free_port(), _free_port()], actions=[_free_port()])
    env = {**CHANNEL_SECRETS, "PREPAGO_MODEL_REGISTRY": str(registry.root), "PREPAGO_MODEL_PULL_SECONDS": "1",
           "PREPAGO_RETRAIN_CV_FOLDS": str(SETTINGS.cv_folds)}
    with running_cluster(trained_model, ports, work / "cluster", database_url, redis_url=REDIS_URL,
                         key_prefix=f"retrain{os.getpid()}", env=env) as cluster:
        create_user(*AGENT, engine=engine_for(database_url))
        cluster.registry, cluster.work, cluster.env = registry, work, env
        yield cluster


def model_on(cluster, replica: str) -> str:
    # Loading a model holds the replica's event loop for a few seconds: a generous timeout.
    reply = requests.get(f"{cluster.replica_url(replica)}/status", params={"token": os.environ["RASA_API_TOKEN"]},
                         timeout=60)
    assert reply.status_code == 200, reply.text
    return reply.json()["model_id"]


def wait_for_model(cluster, model_id: str, timeout: float = 120.0) -> float:
    """Seconds until every replica reports `model_id` at /status (polled every 0.2 s)."""
    started = time.monotonic()
    pending = set(cluster.replica_names())
    while pending and time.monotonic() - started < timeout:
        pending = {name for name in pending if model_on(cluster, name) != model_id}
        time.sleep(0.2)
    assert not pending, f"{sorted(pending)} still serve another model after {timeout:.0f} s"
    return time.monotonic() - started


def intent_on(cluster, replica: str, text: str) -> str:
    reply = requests.post(f"{cluster.replica_url(replica)}/model/parse", params={"token": os.environ["RASA_API_TOKEN"]},
                          json={"text": text}, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()["intent"]["name"]


def labels_file(cluster, name: str, examples) -> "os.PathLike":
    path = cluster.work / f"{name}.yml"
    write_nlu(examples, path)
    return path


def bot(cluster, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tools.cli", *args], env={**os.environ, **cluster.env},
                          capture_output=True, text=True, timeout=120)


def test_a_retrain_that_is_not_worse_is_promoted_every_replica_loads_it_and_one_command_rolls_it_back(loop):
    registry = loop.registry
    seed = registry.live()
    pids = {name: loop.processes[name].pid for name in loop.replica_names()}
    assert {model_on(loop, name) for name in loop.replica_names()} == {seed["model_id"]}

    outcome = retrain(registry, labels_file(loop, "good", GOOD), export=False, settings=SETTINGS)

    assert outcome.status == "promoted", (outcome.message, [c.spanish() for c in outcome.checks])
    live = registry.live()
    assert live["version"] == outcome.version != seed["version"] and live["model_id"] != seed["model_id"]
    assert live["labels_count"] == len(GOOD)
    # Every figure was compared, and each is kept in the manifest for both versions.
    assert [c.name.split(" ")[0] for c in outcome.checks] == ["exactitud", "macro-F1", "exactitud", "macro-F1",
                                                             "validación"]
    assert all(c.ok for c in outcome.checks)
    for version in (registry.get(seed["version"]), live):
        assert {"dev", "test", "cv"} <= set(version["scores"])
    pickup = wait_for_model(loop, live["model_id"])
    print(f"retrain {outcome.seconds:.0f} s; every replica on {live['version']} {pickup:.1f} s after the promotion")
    # Loaded in place: the same processes, never restarted, and the new model knows the new labels.
    assert {name: loop.processes[name].pid for name in loop.replica_names()} == pids
    assert all(loop.processes[name].poll() is None for name in pids)
    for name in loop.replica_names():
        assert intent_on(loop, name, GOOD[0][0]) == "faq_add_funds"

    listed = bot(loop, "model", "list")
    assert listed.returncode == 0 and f"▶ {live['version']}" in listed.stdout, listed.stderr
    back = bot(loop, "model", "rollback")
    assert back.returncode == 0, back.stderr
    assert f"{seed['version']} vuelve a estar en uso" in back.stdout
    assert registry.live()["version"] == seed["version"]
    assert registry.get(live["version"])["status"] == "rolled_back"
    wait_for_model(loop, seed["model_id"])
    assert {name: loop.processes[name].pid for name in loop.replica_names()} == pids


def test_labels_that_poison_an_intent_are_refused_and_the_live_model_stays(loop):
    registry = loop.registry
    before = registry.live()

    outcome = retrain(registry, labels_file(loop, "poison", poison()), export=False, settings=SETTINGS)

    assert outcome.status == "rejected", (outcome.message, [c.spanish() for c in outcome.checks])
    failed = [c for c in outcome.checks if not c.ok]
    assert failed and failed[0].name.endswith(("en desarrollo", "en prueba")) and "bajó" in outcome.message
    # Refused on the held-out sets: no minutes spent on cross-validation.
    assert not any(c.name.startswith("validación cruzada") for c in outcome.checks)
    print("poisoned: " + "; ".join(c.spanish() for c in outcome.checks))
    assert registry.live()["version"] == before["version"]
    rejected = registry.get(outcome.version)
    assert rejected["status"] == "rejected" and registry.path(outcome.version).exists()  # kept, never served
    # The model server still answers "nothing new" to a replica holding the live model.
    reply = requests.get(f"{loop.console_url}/models/live", timeout=10, headers={
        "X-Prepago-Model-Token": os.environ["RASA_API_TOKEN"], "If-None-Match": etag_of(before["sha256"])})
    assert reply.status_code == 304
    assert {model_on(loop, name) for name in loop.replica_names()} == {before["model_id"]}


def test_the_model_server_answers_only_with_the_token_and_names_the_version(loop):
    url = f"{loop.console_url}/models/live"
    assert requests.get(url, timeout=10).status_code == 401
    assert requests.get(url, headers={"X-Prepago-Model-Token": "x" * 32}, timeout=10).status_code == 401
    reply = requests.get(url, headers={"X-Prepago-Model-Token": os.environ["RASA_API_TOKEN"],
                                       "If-None-Match": '"something-else"'}, timeout=30)
    live = loop.registry.live()
    assert reply.status_code == 200 and reply.headers["ETag"] == etag_of(live["sha256"])
    assert reply.headers["filename"] == f"prepago-{live['version']}.tar.gz"
    assert reply.content == loop.registry.path(live["version"]).read_bytes()


def test_the_retrain_button_needs_a_staff_session_and_the_csrf_token(loop):
    base = console_url(loop)  # the host the session cookie was set for
    assert requests.post(f"{base}/api/models/retrain", json={}, timeout=10).status_code == 401
    assert requests.get(f"{base}/api/models", timeout=10).status_code == 401
    agent = sign_in(loop)
    # The staff member's cookie, as a cross-site form would send it, without the session's CSRF token.
    forged = requests.post(f"{base}/api/models/retrain", json={}, timeout=10, headers={"Origin": base},
                           cookies={"prepago_staff": agent.cookies.get("prepago_staff")})
    assert forged.status_code == 403
    cross_site = agent.post(f"{base}/api/models/retrain", json={}, headers={"Origin": "https://evil.example"},
                            timeout=10)
    assert cross_site.status_code == 403
    shown = agent.get(f"{base}/api/models", timeout=10).json()
    assert shown["live"]["version"] == loop.registry.live()["version"] and shown["live"]["status"] == "en uso"
    assert not shown["job"]["running"]
    page = agent.get(f"{base}/insights", timeout=10)
    assert "Reentrenar" in page.text and "/models.js" in page.text

    started = agent.post(f"{base}/api/models/retrain", json={}, timeout=10)
    assert started.status_code == 202, started.text
    again = agent.post(f"{base}/api/models/retrain", json={}, timeout=10)
    assert again.status_code == 409 and "en curso" in again.json()["error"]
    deadline = time.monotonic() + 120
    job = agent.get(f"{base}/api/models", timeout=10).json()["job"]
    while job["running"] and time.monotonic() < deadline:
        time.sleep(0.5)
        job = agent.get(f"{base}/api/models", timeout=10).json()["job"]
    # Nobody labelled anything in this cluster's console: the job says so, and nothing changed.
    assert job["state"] == "done" and "nada que reentrenar" in job["message"], job
    assert job["finished"]
