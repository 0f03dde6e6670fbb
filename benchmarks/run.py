"""`make bench`: quality, speed and store benchmarks, printed as a table and
written to benchmarks/RESULTS.md and benchmarks/results.json.

    python -m benchmarks.run            # the full run (about 75 minutes on 2 cores, 30 of them the soak)
    python -m benchmarks.run --only cluster   # one part; the others' figures are kept
    python -m benchmarks.run --only unanswered   # the console's unanswered list at 5,000 and 50,000 messages
    python -m benchmarks.run --only soak --soak-minutes 2   # a shorter soak
    python -m benchmarks.run --smoke    # a tiny run that keeps the benchmark from rotting
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, text

from benchmarks import (alerts_bench, cluster_bench, handoff_bench, insights_bench, payments_bench, quality_bench,
                        soak_bench,
                        speed_bench, store_bench)
from benchmarks.stats import machine
from bot.config import PROJECT_ROOT
from tools.serve import QUIET_ENV

HERE = Path(__file__).resolve().parent
MODEL = PROJECT_ROOT / "models" / "prepago.tar.gz"

# Speed targets are ratios against the stock `rasa init` assistant measured in
# the same run on the same machine: this machine is shared and its absolute
# figures drift run to run, the ratios do not.
TARGETS = {
    "parse_p95_ratio": 0.5,        # our /model/parse p95 ≤ 0.5 × stock's
    "faq_p95_ratio": 0.4,          # our FAQ reply p95 ≤ 0.4 × stock's reply p95
    "lookup_p95_ratio": 0.5,       # our balance lookup p95 ≤ 0.5 × stock's reply p95
    "throughput_ratio_8": 3.0,     # ≥ 3 × stock's msg/s at 8 conversations, 0 errors
    "ready_ratio": 0.6,            # ready after the start command ≤ 0.6 × stock's
    "store_p95_ms": 5,
    "unanswered_page_p95_s": 1.0,  # GET /api/insights/unanswered, first page, 50,000 unanswered messages
}


PARTS = ("quality", "training", "speed", "store", "cluster", "handoff", "insights", "unanswered", "alerts", "payments", "soak")


def train_timing(work: Path) -> dict:
    """Train this project's model from scratch (empty cache) and time it."""
    env = {**os.environ, **QUIET_ENV, "RASA_CACHE_DIRECTORY": str(work / "cache")}
    started = time.perf_counter()
    subprocess.run([str(Path(sys.executable).with_name("rasa")), "train", "--fixed-model-name", "timed",
                    "--out", str(work)], cwd=PROJECT_ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return {"train_s": round(time.perf_counter() - started, 1),
            "model_mib": round((work / "timed.tar.gz").stat().st_size / 2**20, 1)}


def store(rows: int, iterations: int, work: Path) -> dict:
    out = {}
    engines = {"sqlite": create_engine(f"sqlite:///{work / 'store.db'}", future=True)}
    pg_url = os.environ.get("PREPAGO_BENCH_POSTGRES_URL") or os.environ.get("PREPAGO_TEST_POSTGRES_URL")
    schema = f"prepago_bench_{uuid.uuid4().hex[:8]}"
    if pg_url:
        admin = create_engine(pg_url, future=True)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engines["postgresql"] = create_engine(pg_url, future=True, connect_args={"options": f"-csearch_path={schema}"})
    try:
        for name, engine in engines.items():
            fill_s = store_bench.fill(engine, rows)
            out[name] = {"rows": store_bench.row_count(engine), "fill_s": round(fill_s, 1),
                         **store_bench.measure(engine, iterations)}
    finally:
        if pg_url:
            engines["postgresql"].dispose()
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    if not pg_url:
        out["postgresql"] = "skipped: set PREPAGO_BENCH_POSTGRES_URL (or PREPAGO_TEST_POSTGRES_URL)"
    return out


def markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        "# Benchmark results", "",
        f"Run {results['finished']} on {m['cpu']} ({m['cores']} cores, {m['memory_gib']} GiB), {m['os']}, Python {m['python']}."
        + (" **Smoke run: tiny sizes, figures not meaningful.**" if results["smoke"] else ""), "",
    ]
    q = _current_quality(results)
    if q:
        n = q["examples"]
        lines += ["## NLU quality", "",
                  f"{q['train_examples']} training examples, {q.get('labels')} labels. Development set: {n['dev']} messages "
                  "(`tests/data/nlu_heldout.yml`; it has guided choices, so it measures fit to itself). Test set: "
                  f"{n['test']} messages (`tests/data/nlu_test.yml`, written blind; only these aggregates are read).", ""]
        for name, title in (("test", "Test set (blind)"), ("dev", "Development set")):
            lines += [f"### {title}", "",
                      "| system | accuracy | macro-F1 | out-of-scope recall | out-of-scope handled¹ | in-scope sent to fallback | top confusions |",
                      "| --- | --- | --- | --- | --- | --- | --- |"]
            for system, r in q[name].items():
                confusions = "; ".join(r["confusions"][:3]) if name == "dev" else "(not read)"
                lines.append(f"| {system} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | {r['oos_recall']} | {r['oos_handled']} | "
                             f"{r.get('false_fallback', '')} | {confusions} |")
            lines.append("")
        tuning = q.get("baseline_tuning")
        lines += ["¹ predicted `out_of_scope` or sent to the confidence fallback.", ""]
        if tuning:
            chosen = tuning["chosen"]
            lines += [f"TF-IDF + LR tuned on the CV splits below: C={chosen['C']}, class_weight={chosen['class_weight']} "
                      "(grid: " + ", ".join(f"C={g['C']}/{g['class_weight'] or 'none'}: {g['macro_f1']:.3f}"
                                            for g in tuning["grid"]) + ").", ""]
        lines += ["Repeated stratified k-fold cross-validation on the training data (macro-F1; Rasa pipelines scored on "
                  "their top intent). Every system sees the same splits; the paired rows are ours minus the other, split by split.", "",
                  "| system | splits | mean | std (spread) | worst | best | ours ahead in |", "| --- | --- | --- | --- | --- | --- | --- |"]
        for name, r in q["cross_validation"].items():
            f = r["macro_f1"]
            lines.append(f"| {name} | {r.get('splits')} ({r.get('folds', 5)}×{r.get('repeats', '')}) | {f['mean']:.3f} | "
                         f"{f['std']:.3f} | {f['min']:.3f} | {f['max']:.3f} | {r.get('ours_ahead_in', '')} |")
        lines.append("")
    s = results.get("speed")
    if s:
        ours, stock = s["ours"], s.get("stock")
        lines += ["## Speed through the real HTTP servers (one Rasa process each)", "",
                  "| measure | ours | stock `rasa init` | stock / ours |", "| --- | --- | --- | --- |"]

        def row(label, a, b):
            ratio = f"{b / a:.1f}×" if (a and b) else ""
            lines.append(f"| {label} | {a if a is not None else '–'} | {b if b is not None else '–'} | {ratio} |")

        for key, label in (("parse", "`/model/parse`"), ("faq_end_to_end", "FAQ message end to end")):
            for p in ("p50_ms", "p95_ms"):
                row(f"{label} {p[:3]} (ms)", ours[key][p], stock[key][p] if stock else None)
        for p in ("p50_ms", "p95_ms"):
            row(f"balance lookup end to end {p[:3]} (ms)", ours["lookup_end_to_end"][p],
                stock["faq_end_to_end"][p] if stock else None)
        for i, load in enumerate(ours["load"]):
            other = stock["load"][i] if stock else None
            c = load["concurrency"]
            ratio = f"{load['throughput_msg_s'] / other['throughput_msg_s']:.1f}× ours" if other and other["throughput_msg_s"] else ""
            lines.append(f"| throughput, {c} conversations (msg/s) | {load['throughput_msg_s']} | "
                         f"{other['throughput_msg_s'] if other else '–'} | {ratio} |")
            lines.append(f"| p95 at {c} conversations (ms) | {load['p95_ms']} | {other['p95_ms'] if other else '–'} | |")
            lines.append(f"| errors at {c} conversations | {load['errors']} of {load['messages']} | "
                         f"{(str(other['errors']) + ' of ' + str(other['messages'])) if other else '–'} | |")
        row("ready after start command (s)", ours["ready_s"], stock["ready_s"] if stock else None)
        lines.append(f"| peak memory (MiB) | Rasa {ours['peak_rss_mib'].get('rasa')}, actions {ours['peak_rss_mib'].get('actions')} | "
                     f"{stock['peak_rss_mib']['rasa'] if stock else '–'} | |")
        t = results.get("training")
        if t:
            lines.append(f"| training time (s) | {t['train_s']} | {stock.get('train_s') if stock else '–'} | |")
            lines.append(f"| model size (MiB) | {t['model_mib']} | {stock.get('model_mib') if stock else '–'} | |")
        lines.append("")
    st = results.get("store")
    if st:
        lines += ["## Account store lookups", "", "| database | rows | balance p50/p95 (ms) | last 20 of one extension p50/p95 | month per-extension summary p50/p95 |",
                  "| --- | --- | --- | --- | --- |"]
        for name, r in st.items():
            if isinstance(r, str):
                lines.append(_skipped([name, r], 5))
                continue
            cells = [f"{r[k]['p50_ms']} / {r[k]['p95_ms']}" for k in ("balance", "last_20_for_extension", "month_summary")]
            lines.append(f"| {name} | {r['rows']:,} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += cluster_markdown(results.get("cluster"))
    h = results.get("handoff")
    if h:
        lines += ["## Human handoff (widget over socket.io, staff console over HTTP, one Rasa process, SQLite)", "",
                  f"{h['cases']} cases, each: the customer asks for a person, the agent replies {h.get('replies', 3)} times "
                  "and closes.", "",
                  "| measure | n | p50 (ms) | p95 (ms) |", "| --- | --- | --- | --- |"]
        for key, label in (("handoff_turn", "customer asks for a person → the assistant's answer (case opened)"),
                           ("console_notified", "customer's message → the console's live queue is told"),
                           ("agent_reply_to_widget", "agent presses «Enviar» → the reply is in the widget")):
            lines.append(f"| {label} | {h[key]['n']} | {h[key]['p50_ms']} | {h[key]['p95_ms']} |")
        lines += ["", f"Console process peak RSS: {h.get('console_rss_mib')} MiB.", ""]
    pay = results.get("payments")
    if isinstance(pay, dict) and "without_stand_in" in pay:
        a, b = pay["confirm_to_receipt"], pay["without_stand_in"]
        lines += ["## Add funds from the chat (the «sí» turn to the receipt, real Stripe SDK → local stand-in)", "",
                  "| rounds | errors | confirm → receipt p50/p95 (ms) | the same without the stand-in's time p50/p95 (ms) |",
                  "|---|---|---|---|",
                  f"| {pay['rounds']} | {pay['errors']} | {a['p50_ms']} / {a['p95_ms']} | {b['p50_ms']} / {b['p95_ms']} |",
                  ""]
    al = results.get("alerts")
    if al:
        lines += ["## Proactive alerts (one worker, WhatsApp templates through the Twilio SDK to a local stand-in)", "",
                  "| database | alerts | sent | failed | alerts/s | charge → sent p50/p95 (ms) |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for name, r in al.items():
            if isinstance(r, str):
                lines.append(_skipped([name, r], 6))
                continue
            lines.append(f"| {name} | {r['alerts']} | {r['sent']} | {r['failed']} | {r['alerts_per_second']} | "
                         f"{r['charge_to_send']['p50_ms']} / {r['charge_to_send']['p95_ms']} |")
        lines.append("")
    ins = results.get("insights")
    if ins:
        lines += ["## Insights over a month of tracker events", "",
                  "Events in Rasa's own schema and JSON (`events` table), spread over 30 days. The first ingest "
                  "summarises them into `insight_turns` once; after that each run reads only new events.", "",
                  "| database | events | messages summarised | first ingest (s) | next minute's ingest (ms) | "
                  "30-day figures p50/p95 (ms) | unanswered groups p50/p95 (ms) |", "| --- | --- | --- | --- | --- | --- | --- |"]
        for name, r in ins.items():
            if isinstance(r, str):
                lines.append(_skipped([name, r], 7))
                continue
            lines.append(f"| {name} | {r['events']:,} | {r['messages_summarised']:,} | {r['first_ingest_s']} | "
                         f"{r['incremental_ingest_ms']} | {r['metrics_30_days']['p50_ms']} / {r['metrics_30_days']['p95_ms']} | "
                         f"{r['unanswered_groups']['p50_ms']} / {r['unanswered_groups']['p95_ms']} |")
        lines.append("")
    lines += unanswered_markdown(results.get("unanswered"))
    lines += soak_markdown(results.get("soak"))
    lines += ["## Targets", "", "| target | goal | measured |", "| --- | --- | --- |"]
    for name, (goal, value) in results.get("targets", {}).items():
        lines.append(f"| {name} | {goal} | {value} |")
    return "\n".join(lines) + "\n"


def cluster_markdown(c: dict | None) -> list[str]:
    if not c:
        return []
    lines = ["## Scale-out: replicas behind HAProxy (PostgreSQL tracker store, Redis locks)", ""]
    if "skipped" in c:
        return lines + [f"Skipped: {c['skipped']}", ""]
    lines += ["Mixed FAQ and balance-lookup messages through the load balancer, closed loop, 30 s per row; "
              "everything (load generator, HAProxy, PostgreSQL, Redis) shares the same 2 cores.", "",
              "| replicas | conversations | msg/s | p50 (ms) | p95 (ms) | errors |", "| --- | --- | --- | --- | --- | --- |"]
    for run in c["runs"]:
        for load in run["load"]:
            lines.append(f"| {run['replicas']} | {load['concurrency']} | {load['throughput_msg_s']} | {load['p50_ms']} | "
                         f"{load['p95_ms']} | {load['errors']} of {load['messages']} |")
    lines += ["", "| replicas | peak RSS per process (MiB) | CPU ms per message, by role | action server's share of CPU |",
              "| --- | --- | --- | --- |"]
    for run in c["runs"]:
        rss = ", ".join(f"{k} {v}" for k, v in run["peak_rss_mib"].items())
        cpu = ", ".join(f"{k} {v}" for k, v in run["cpu_ms_per_message"].items())
        lines.append(f"| {run['replicas']} | {rss} | {cpu} | {run['action_server_cpu_share']:.0%} |")
    loop = c.get("event_loop")
    if loop:
        lines += ["", "Event loop: one replica, 32 conversations, PostgreSQL tracker store.", "",
                  "| tracker store queries | msg/s | p50 (ms) | p95 (ms) | errors |", "| --- | --- | --- | --- | --- |"]
        for label, load in loop.items():
            lines.append(f"| {label} | {load['throughput_msg_s']} | {load['p50_ms']} | {load['p95_ms']} | "
                         f"{load['errors']} of {load['messages']} |")
    return lines + [""]


def _skipped(cells: list[str], width: int) -> str:
    """The row of a part that did not run: its label, why, and empty cells up to `width` columns."""
    return "| " + " | ".join(cells + [""] * (width - len(cells))) + " |"


def unanswered_markdown(u: dict | None) -> list[str]:
    if not u:
        return []
    lines = ["## Insights: the unanswered list, a page at a time", "",
             "`GET /api/insights/unanswered` of the last 30 days (20 groups a page) through the console's HTTP server, "
             "after every message was grouped on ingest. Texts vary as customers write them: a long tail of topics "
             "with fillers and typos, 10% one-off texts.", "",
             "| unanswered | database | distinct texts | groups | first ingest, grouping included (s) | next 100 misses' "
             "ingest (ms) | first page p50/p95 (ms) | first page (bytes) | offsets 1,000-3,000 p50 (ms) | console RSS (MiB) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for size, by_database in u.items():
        for name, r in by_database.items():
            if isinstance(r, str):
                lines.append(_skipped([f"{int(size):,}", name, r], 10))
                continue
            lines.append(f"| {r['unanswered']:,} | {name} | {r['distinct_texts']:,} | {r['groups']:,} | "
                         f"{r['first_ingest_s']} | {r['incremental_ingest_ms']} | {r['first_page']['p50_ms']} / "
                         f"{r['first_page']['p95_ms']} | {r['first_page_bytes']:,} | "
                         f"{r['page_at_offset_1000_to_3000']['p50_ms']} | {r['console_rss_mib']} |")
    return lines + [""]


def soak_markdown(s: dict | None) -> list[str]:
    if not s:
        return []
    lines = ["## Soak: two replicas at half their measured capacity", ""]
    if "skipped" in s:
        return lines + [f"Skipped: {s['skipped']}", ""]
    load = s["load"]
    lines += [f"{s['seconds'] / 60:.1f} minutes at {s['rate_msg_s']} msg/s, {s['share']:.0%} of the {s['capacity_msg_s']} msg/s "
              "measured just before (32 conversations, closed loop, through HAProxy); open loop, mixed FAQ and balance "
              f"messages; resident memory sampled every {s['sample_every_s']} s ({s['samples']} samples); growth is the "
              f"least-squares slope from {s.get('growth_after_s')} s on (after the first fifth, or once each replica's "
              "tracker cache of 2,000 conversations could be full, at most 60% in).", "",
              "| messages | errors | p50 (ms) | p95 (ms) | p95 first / last tenth (ms) | processes restarted |",
              "| --- | --- | --- | --- | --- | --- |",
              f"| {load['messages']} | {load['errors']} | {load['p50_ms']} | {load['p95_ms']} | "
              f"{load['p95_first_tenth_ms']} / {load['p95_last_tenth_ms']} | "
              f"{', '.join(f'{k} ×{v}' for k, v in s['restarts'].items()) or 'none'} |", "",
              "| process | RSS at start (MiB) | at end | peak | growth (MiB per hour) |", "| --- | --- | --- | --- | --- |"]
    for name, r in s["rss"].items():
        lines.append(f"| {name} | {r['start_mib']} | {r['end_mib']} | {r['peak_mib']} | {r['growth_mib_per_hour']} |")
    return lines + [""]


def _current_quality(results: dict) -> dict | None:
    """The quality figures, unless they were kept from a run before the blind test set (`--only` of another part)."""
    q = results.get("quality")
    return q if q and "test" in q else None


def _verdict(met: bool) -> str:
    return "met" if met else "**missed**"


def targets(results: dict) -> dict:
    out = {}
    s = results.get("speed")
    if s and "stock" in s:
        ours, stock = s["ours"], s["stock"]

        def ratio(label, value, reference, goal):
            r = value / reference if reference else float("inf")
            out[label] = (f"≤ {goal}×", f"{r:.2f}× ({value} vs {reference} ms) {_verdict(r <= goal)}")

        ratio("/model/parse p95 vs stock's", ours["parse"]["p95_ms"], stock["parse"]["p95_ms"], TARGETS["parse_p95_ratio"])
        ratio("FAQ reply p95 vs stock's reply", ours["faq_end_to_end"]["p95_ms"], stock["faq_end_to_end"]["p95_ms"],
              TARGETS["faq_p95_ratio"])
        ratio("lookup reply p95 vs stock's reply", ours["lookup_end_to_end"]["p95_ms"], stock["faq_end_to_end"]["p95_ms"],
              TARGETS["lookup_p95_ratio"])
        ready = ours["ready_s"] / stock["ready_s"]
        out["ready vs stock's"] = (f"≤ {TARGETS['ready_ratio']}×",
                                   f"{ready:.2f}× ({ours['ready_s']} vs {stock['ready_s']} s) {_verdict(ready <= TARGETS['ready_ratio'])}")
        for ours_load, stock_load in zip(ours["load"], stock["load"]):
            c = ours_load["concurrency"]
            r = ours_load["throughput_msg_s"] / max(stock_load["throughput_msg_s"], 0.1)
            goal = f"≥ {TARGETS['throughput_ratio_8']}× and 0 errors" if c == 8 else "(reported)"
            met = r >= TARGETS["throughput_ratio_8"] and ours_load["errors"] == 0
            out[f"throughput vs stock, {c} conversations"] = (
                goal, f"{r:.2f}× ({ours_load['throughput_msg_s']} vs {stock_load['throughput_msg_s']} msg/s), "
                      f"{ours_load['errors']} errors" + (f" {_verdict(met)}" if c == 8 else ""))
    if results.get("store"):
        worst = max(r[k]["p95_ms"] for r in results["store"].values() if isinstance(r, dict)
                    for k in ("balance", "last_20_for_extension", "month_summary"))
        out["store lookups p95 (ms), worst"] = (f"< {TARGETS['store_p95_ms']}", worst)
    ins = results.get("insights")
    if ins:
        worst = max((r["metrics_30_days"]["p95_ms"] + r["unanswered_groups"]["p95_ms"]) / 1000
                    for r in ins.values() if isinstance(r, dict))
        out["insights page, 30 days of 1M events (s, worst database)"] = ("≤ 2", f"{worst:.2f} {_verdict(worst <= 2)}")
    largest = max(results.get("unanswered") or {}, key=int, default=None)
    if largest:
        measured = [r for r in results["unanswered"][largest].values() if isinstance(r, dict)]
        if measured:
            worst = max(r["first_page"]["p95_ms"] for r in measured) / 1000
            goal = TARGETS["unanswered_page_p95_s"]
            out[f"unanswered list, first page p95 at {int(largest):,} messages (s, worst database)"] = (
                f"≤ {goal}", f"{worst:.2f} {_verdict(worst <= goal)}")
    q = _current_quality(results)
    if q:
        cv = q["cross_validation"]
        spread = max((r["macro_f1"]["std"] for n, r in cv.items() if "paired" not in n), default=0.0)
        mine = "ours (top intent, no fallback)"
        for other in ("tfidf_logreg", "stock"):
            if other in cv and "ours" in cv:
                d = cv["ours"]["macro_f1"]["mean"] - cv[other]["macro_f1"]["mean"]
                out[f"CV macro-F1, ours − {other}"] = (f"> spread ({spread:.3f})", f"{d:+.3f} {_verdict(d > spread)}")
            if other in q["test"] and mine in q["test"]:
                d = q["test"][mine]["macro_f1"] - q["test"][other]["macro_f1"]
                out[f"test-set macro-F1, ours − {other}"] = ("> 0", f"{d:+.3f} {_verdict(d > 0)}")
        t = q["test"].get("ours")
        if t:
            out["test-set accuracy · macro-F1 (ours, with fallback)"] = ("≥ 0.97", f"{t['accuracy']} · {t['macro_f1']} "
                                                                        f"{_verdict(min(t['accuracy'], t['macro_f1']) >= 0.97)}")
            out["out-of-scope handled (test set)"] = ("≥ 0.9", f"{t['oos_handled']} {_verdict(t['oos_handled'] >= 0.9)}")
            out["in-scope sent to fallback (test set)"] = ("≤ 0.03", f"{t['false_fallback']} {_verdict(t['false_fallback'] <= 0.03)}")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, no stock assistant, no Rasa CV")
    parser.add_argument("--only", nargs="*", choices=list(PARTS))
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--soak-minutes", type=float, default=30.0,
                        help="how long the soak part runs at half the cluster's capacity (--smoke: 20 s)")
    parser.add_argument("--cv-repeats", type=int, default=5,
                        help="repeats of the 5-fold CV for our pipeline and the TF-IDF baseline")
    parser.add_argument("--stock-cv-repeats", type=int, default=2,
                        help="repeats of the 5-fold CV for the stock pipeline (DIET trains 100 epochs per split)")
    args = parser.parse_args(argv)
    parts = set(args.only or PARTS)
    if args.smoke:
        parts.discard("training")
    os.environ.update(QUIET_ENV)
    # Throw-away secrets for the servers this run starts; never written anywhere.
    os.environ.setdefault("PREPAGO_JWT_SECRET", secrets.token_urlsafe(48))
    os.environ.setdefault("RASA_API_TOKEN", secrets.token_urlsafe(24))
    os.environ.setdefault("PREPAGO_PIN_PEPPER", secrets.token_urlsafe(48))
    os.environ.setdefault("PREPAGO_ACTION_TOKEN", secrets.token_urlsafe(32))
    results: dict = {"machine": machine(), "smoke": args.smoke}
    args.out.mkdir(parents=True, exist_ok=True)
    previous = args.out / "results.json"
    if args.only and previous.exists():  # re-running some parts keeps the others' figures
        old = json.loads(previous.read_text())
        results.update({k: v for k, v in old.items() if k in set(PARTS) - parts})
    steps = {
        "quality": ("NLU quality", lambda work: quality_bench.quality(
            MODEL, cv_folds=2 if args.smoke else 5, cv_repeats=1 if args.smoke else args.cv_repeats,
            stock_repeats=args.stock_cv_repeats, rasa_cv=not args.smoke, with_stock=not args.smoke)),
        "training": ("Training time (empty cache)", train_timing),
        "speed": ("Latency and throughput", lambda work: speed_bench.speed(
            MODEL, work, one_user_n=5 if args.smoke else 200, load_seconds=2 if args.smoke else 30,
            concurrencies=(2,) if args.smoke else (8, 32), with_stock=not args.smoke)),
        "store": ("Account store", lambda work: store(2000 if args.smoke else 1_000_000, 5 if args.smoke else 300, work)),
        "cluster": ("Replicas behind HAProxy", lambda work: cluster_bench.cluster(
            MODEL, work, seconds=2 if args.smoke else 30, concurrencies=(4,) if args.smoke else (8, 32, 128),
            replica_counts=(2,) if args.smoke else (1, 2))),
        "handoff": ("Human handoff", lambda work: handoff_bench.handoff(
            MODEL, work, cases=2 if args.smoke else 20, replies=2 if args.smoke else 3)),
        "insights": ("Insights over a month of events", lambda work: insights_bench.insights(
            work, 5_000 if args.smoke else 1_000_000,
            os.environ.get("PREPAGO_BENCH_POSTGRES_URL") or os.environ.get("PREPAGO_TEST_POSTGRES_URL"))),
        "unanswered": ("The unanswered list at 5,000 and 50,000 messages", lambda work: insights_bench.unanswered_page(
            work, (200, 2_000) if args.smoke else (5_000, 50_000),
            pg_url=os.environ.get("PREPAGO_BENCH_POSTGRES_URL") or os.environ.get("PREPAGO_TEST_POSTGRES_URL"))),
        "alerts": ("Proactive alerts", lambda work: alerts_bench.alerts(
            work, 20 if args.smoke else 500,
            os.environ.get("PREPAGO_BENCH_POSTGRES_URL") or os.environ.get("PREPAGO_TEST_POSTGRES_URL"))),
        "payments": ("Add funds from the chat", lambda work: payments_bench.payments(
            MODEL, work, rounds=5 if args.smoke else 100)),
        "soak": ("Soak at half capacity", lambda work: soak_bench.soak(
            MODEL, work, seconds=20 if args.smoke else 60 * args.soak_minutes,
            capacity_seconds=3 if args.smoke else 30)),
    }
    failed = False
    for key in PARTS:
        if key not in parts:
            continue
        label, run = steps[key]
        print(f"==> {label}…", flush=True)
        with tempfile.TemporaryDirectory(prefix=f"prepago-bench-{key}-") as tmp:
            try:
                results[key] = run(Path(tmp))
            except Exception as exc:  # noqa: BLE001 - keep the other parts' figures
                failed = True
                print(f"{label} failed: {exc!r}", file=sys.stderr, flush=True)
        write(results, args.out)  # after every part: a late failure never loses earlier figures
    print(write(results, args.out))
    return 1 if failed else 0


def write(results: dict, out: Path) -> str:
    results["finished"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    results["targets"] = targets(results)
    table = markdown(results)
    (out / "RESULTS.md").write_text(table)
    (out / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    return table


if __name__ == "__main__":
    sys.exit(main())
