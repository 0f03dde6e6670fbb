"""The one clock of a test session: no test reads the wall clock.

The session runs at `NOW` (`PREPAGO_TEST_NOW`, ISO 8601; by default a fixed
Wednesday noon in Mexico City), and time moves on from there at its real pace:

* in this process, time-machine moves `datetime.now()`, `time.time()` and
  friends (what `bot.models.utcnow` and every library read);
* in every process the tests start (Rasa, the action server, the console, the
  alert worker, `bot report`…), libfaketime shifts the clock by the same
  offset, so the servers, the seeded demo history and the assertions agree on
  what «ayer» and «este mes» are.

`make test-clocks` runs the date-sensitive tests again at night in Mexico City,
on the first of a month, on a Monday just after midnight, on New Year's Eve and
on a leap day.
"""
from __future__ import annotations

import glob
import os
import time
from datetime import datetime, timezone

import time_machine

DEFAULT_NOW = "2026-11-25T18:00:00+00:00"  # Wednesday, noon in Mexico City

# Monotonic clocks stay real: timeouts, sleeps and event loops must not jump. With them real,
# libfaketime's "monotonic fix" for pthread_cond_timedwait has nothing to fix, and it costs: it
# made every thread hand-off ~20× slower (asyncio.to_thread: 0.7 ms against 0.04 ms, worst 0.3 s),
# enough to stall a loaded Rasa replica's event loop for seconds (its tracker store runs in a
# thread pool) and to make the cluster tests fail at random.
_KEEP_MONOTONIC = {"FAKETIME_DONT_FAKE_MONOTONIC": "1", "FAKETIME_FORCE_MONOTONIC_FIX": "0"}


def _parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"PREPAGO_TEST_NOW needs a time zone (e.g. {DEFAULT_NOW}), got {text!r}")
    return moment.astimezone(timezone.utc)


def _libfaketime() -> str:
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1") + glob.glob("/usr/lib/faketime/libfaketime.so.1"))
    if not found:
        raise RuntimeError("libfaketime is missing: `make test` installs Debian's faketime package "
                           "(scripts/ensure-tools.sh); the servers under test must run on the test clock.")
    return found[0]


NOW = _parse(os.environ.get("PREPAGO_TEST_NOW", DEFAULT_NOW))


def start() -> None:
    """Move this process and every process it starts from now on to `NOW`."""
    offset = NOW.timestamp() - time.time()
    time_machine.travel(NOW, tick=True).start()
    preload = " ".join(p for p in (_libfaketime(), os.environ.get("LD_PRELOAD", "")) if p)
    os.environ.update({"LD_PRELOAD": preload, "FAKETIME": f"{offset:+.3f}", **_KEEP_MONOTONIC})


def real_env() -> dict:
    """This process's environment without the test clock, for programs that are not ours.

    Chromium does not start under libfaketime, and redis-server can fail to start
    under it (a recursive clock_gettime at load); the throwaway services and the
    browser keep the real clock, which nothing they are asked depends on.
    """
    return {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "FAKETIME", *_KEEP_MONOTONIC)}
