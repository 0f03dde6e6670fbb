"""A smoke run of the benchmark so it cannot rot. It asserts that every part
produces its figures, never how fast they are."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import PROJECT_ROOT


def test_benchmark_smoke_run_writes_its_table_and_json(trained_model, tmp_path):
    run = subprocess.run([sys.executable, "-m", "benchmarks.run", "--smoke", "--out", str(tmp_path)],
                         cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["machine"]["cores"] >= 1
    quality = results["quality"]
    for name in ("dev", "test"):
        assert set(quality[name]) == {"ours", "ours (top intent, no fallback)", "tfidf_logreg"}
        assert 0 <= quality[name]["ours"]["macro_f1"] <= 1
    assert quality["baseline_tuning"]["chosen"]["C"] in {1, 3, 10, 30, 100}
    ours = results["speed"]["ours"]
    for measure in ("parse", "faq_end_to_end", "lookup_end_to_end"):
        assert ours[measure]["n"] == 5 and ours[measure]["p95_ms"] > 0
    assert ours["load"][0]["errors"] == 0 and ours["load"][0]["messages"] > 0
    assert results["store"]["sqlite"]["rows"] == 2000
    if os.environ.get("PREPAGO_TEST_POSTGRES_URL") and os.environ.get("PREPAGO_TEST_REDIS_URL"):
        run = results["cluster"]["runs"][0]
        assert run["replicas"] == 2 and run["load"][0]["errors"] == 0 and run["load"][0]["messages"] > 0
        assert set(run["cpu_ms_per_message"]) == {"rasa", "actions", "haproxy", "postgresql", "redis", "alerts"}
        assert all(load["errors"] == 0 for load in results["cluster"]["event_loop"].values())
        soak = results["soak"]
        assert soak["seconds"] == 20 and soak["rate_msg_s"] > 0 and soak["load"]["messages"] > 0
        assert soak["load"]["errors"] == 0 and soak["restarts"] == {}
        assert {"rasa1", "rasa2", "actions1", "haproxy", "alerts"} <= set(soak["rss"])
        assert all(r["growth_mib_per_hour"] is not None and r["end_mib"] > 0 for r in soak["rss"].values())
        assert "## Soak" in (tmp_path / "RESULTS.md").read_text()
    handoff = results["handoff"]
    assert handoff["agent_reply_to_widget"]["n"] == 4 and handoff["console_notified"]["p95_ms"] > 0
    assert results["insights"]["sqlite"]["messages_summarised"] > 0
    page = results["unanswered"]["2000"]["sqlite"]
    assert page["unanswered"] >= 2000 and 0 < page["groups"] < page["unanswered"] and page["first_page_bytes"] > 0
    assert results["alerts"]["sqlite"]["sent"] == results["alerts"]["sqlite"]["alerts"] == 20
    table = (tmp_path / "RESULTS.md").read_text()
    for heading in ("## NLU quality", "## Speed through the real HTTP servers", "## Account store lookups",
                    "## Human handoff", "## Insights over a month",
                    "## Insights: the unanswered list", "## Proactive alerts", "## Targets"):
        assert heading in table
