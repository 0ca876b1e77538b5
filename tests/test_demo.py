"""The demo shows every side: ready logins for an operator, an owner (one approved and one pending listing)
and a customer; the other commands find the demo's database without DATABASE_URL, or say how to get one."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from servicerw.cli import DEMO_ACCOUNTS, DEMO_PASSWORD, _demo_logins
from tests.helpers import HTML, log_in

pytestmark = pytest.mark.usefixtures("fresh_limits")  # the log-in form's rate limits start from zero


async def test_the_demo_logins_cover_every_side_and_can_be_made_again(client, db, clean_db):
    first = await _demo_logins(clean_db)
    again = await _demo_logins(clean_db)  # every `just demo` start: nothing doubles
    assert first == again == {"approved": "Demo Salon", "pending": "Demo Tailors (waiting for approval)"}
    roles = dict(await db.fetch("SELECT email, role FROM users ORDER BY email"))
    assert roles == {email: role for email, _name, role in DEMO_ACCOUNTS}
    owned = await db.fetch(
        "SELECT status FROM businesses b JOIN users u ON u.id = b.owner_id WHERE u.email = $1 ORDER BY status",
        DEMO_ACCOUNTS[1][0],
    )
    assert [r["status"] for r in owned] == ["approved", "pending"]

    operator, owner, customer = (email for email, _name, _role in DEMO_ACCOUNTS)
    assert (await log_in(client, operator, DEMO_PASSWORD)).status_code == 303
    assert (await client.get("/admin", headers=HTML)).status_code == 200
    client.cookies.clear()
    assert (await log_in(client, owner, DEMO_PASSWORD)).status_code == 303
    dashboard = (await client.get("/dashboard", headers=HTML)).text
    assert "Demo Salon" in dashboard and "Demo Tailors (waiting for approval)" in dashboard
    client.cookies.clear()
    assert (await log_in(client, customer, DEMO_PASSWORD)).status_code == 303
    assert (await client.get("/admin", headers=HTML)).status_code == 404


async def test_commands_without_a_database_say_how_to_get_one(tmp_path):
    servicerw = str(Path(sys.executable).with_name("servicerw"))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {"DATA_DIR": str(tmp_path)}
    for command in (["make-admin", "someone@example.rw"], ["migrate"], ["seed", "--businesses", "1"], ["partitions"]):
        done = await asyncio.to_thread(subprocess.run, [servicerw, *command], capture_output=True, text=True, env=env)
        assert done.returncode == 2, command
        assert "DATABASE_URL is not set" in done.stderr and "`just demo` makes one" in done.stderr
        assert "Traceback" not in done.stderr
