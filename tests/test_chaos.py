"""`just chaos` in its quick mode, on two faults: Valkey killed under traffic, and `servicerw worker`
SIGKILLed with a batch of emails in flight. The harness starts its own services, server and database
(bench/chaos.py); no visitor may see a server error, and no inquiry or email may be lost or sent twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from servicerw.settings import ServerSettings, Settings
from tests.services import database_url

ROOT = Path(__file__).resolve().parent.parent


def test_killing_valkey_and_the_worker_under_traffic_loses_nothing_and_shows_no_server_error(tmp_path):
    figures = tmp_path / "chaos.json"
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "chaos.py"),
            "--quick",
            "--faults",
            "valkey-killed,worker-killed",
            "--admin-url",
            database_url(os.environ["DATABASE_URL"], "postgres"),
            "--json",
            str(figures),
            "--logs",
            str(tmp_path / "logs"),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    rows = {row["fault"]: row for row in json.loads(figures.read_text())}
    assert set(rows) == {"valkey-killed", "worker-killed", "(whole run)"}
    for fault in ("valkey-killed", "worker-killed"):
        row = rows[fault]
        assert row["inquiries_sent"] > 0 and row["requests"] > row["inquiries_sent"], row  # traffic ran throughout
        assert row["5xx"] == 0 and row["no_answer"] == 0, row
        assert row["inquiries_lost"] == 0, row
        assert row["emails"] == 2 * row["inquiries_sent"], row
        assert row["emails_lost"] == 0 and row["emails_duplicated"] == 0, row
        assert row["recovery_s"] is not None, row  # requests succeeded again once the fault was removed
    # The worker really died with emails in its hands, and they went out once each all the same.
    assert rows["worker-killed"]["note"].split()[0] != "0", rows["worker-killed"]["note"]
    whole = rows["(whole run)"]
    assert whole["emails_lost"] == 0 and whole["emails_duplicated"] == 0, whole
    assert "0 unsent" in whole["note"], whole


def test_web_processes_can_leave_the_background_work_to_servicerw_worker():
    """The chaos run relies on it: with WEB_BACKGROUND=false only `servicerw worker` sends the outbox."""
    from servicerw.app import create_app

    alone = create_app(Settings(server=ServerSettings(web_background=False)))
    assert [w.name for w in alone.state.background_workers] == ["search_words"]
    both = create_app(Settings(server=ServerSettings(web_background=True)))
    assert {"outbox_worker", "photo_worker"} <= {w.name for w in both.state.background_workers}
