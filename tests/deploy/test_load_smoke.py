"""The one-minute smoke version of the load benchmark (bench/load.py) that CI runs.

Fifty consoles and twenty field teams over Greece's regions, against the two-instance cluster behind nginx, for
one minute (15 s of warm-up, 45 s measured): every REST request answers, no websocket drops, and every console
receives every event it may see exactly once. Latency targets belong to the full benchmark (docs/benchmarks.md),
not to a test; the figures are printed here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from iolaos.config import Settings
from tests.conftest import Backend
from tests.realtime.conftest import clone

pytestmark = pytest.mark.cluster
BENCH = Path(__file__).resolve().parents[2] / "bench" / "load.py"


def test_one_minute_of_load_loses_nothing_and_fails_nothing(backend: Backend, template_settings: Settings,
                                                            redis_url: str, tmp_path: Path) -> None:
    if backend.name != "postgresql":
        pytest.skip("the cluster runs on PostgreSQL")
    settings = clone(backend, "load_smoke")
    out = tmp_path / "load.json"
    done = subprocess.run([sys.executable, str(BENCH), "--database-url", settings.database_url, "--redis-url",
                           redis_url, "--consoles", "50", "--teams", "20", "--warmup", "15", "--duration", "45",
                           "--idle", "100", "--refresh", "15", "--json", str(out)],
                          capture_output=True, text=True, timeout=420)
    assert out.exists(), f"bench/load.py wrote no figures (exit {done.returncode}):\n{done.stderr[-4000:]}"
    figures = json.loads(out.read_text())
    print("\n" + "\n".join(done.stdout.splitlines()[-6:]))
    assert figures["consoles"] == 50 and figures["teams"] == 20
    assert figures["errors"] == 0, figures["error_samples"]
    assert figures["reconnects"] == 0
    assert figures["positions"] >= 20 * 10, "each team reports every 5 s for a minute"
    assert figures["rest_requests"] >= 250
    assert figures["events_expected"] > 0
    assert figures["events_lost"] == 0 and figures["events_duplicated"] == 0
    assert figures["events_delivered"] == figures["events_expected"]
    assert figures["kib_per_idle_socket"] > 0
