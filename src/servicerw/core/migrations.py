"""Helpers for the raw steps of our Piccolo migrations (what Piccolo's column types cannot express)."""

from __future__ import annotations

from contextlib import asynccontextmanager

from piccolo.engine import engine_finder


async def run_statements(*statements: str) -> None:
    """Run SQL statements one by one (asyncpg's extended protocol allows one statement per call)."""
    engine = engine_finder()
    for statement in statements:
        await engine.run_ddl(statement)


@asynccontextmanager
async def connection():
    """The asyncpg connection of the migration's transaction (or a new one when not wrapped)."""
    engine = engine_finder()
    transaction = engine.current_transaction.get()
    if transaction is not None:
        yield transaction.connection
        return
    conn = await engine.get_new_connection()
    try:
        yield conn
    finally:
        await conn.close()


async def create_index_concurrently(name: str, definition: str) -> None:
    """CREATE INDEX CONCURRENTLY, which must run outside a transaction (the migration sets
    wrap_in_transaction=False). A concurrent build that failed leaves an INVALID index behind that
    `IF NOT EXISTS` would keep forever, so such a leftover is dropped before building again."""
    async with connection() as conn:
        invalid = await conn.fetchval(
            """SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               WHERE c.relname = $1 AND NOT i.indisvalid""",
            name,
        )
        if invalid:
            await conn.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
        await conn.execute(f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" {definition}')


async def drop_index_concurrently(*names: str) -> None:
    async with connection() as conn:
        for name in names:
            await conn.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
