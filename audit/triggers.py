"""PostgreSQL triggers that make the audit tables append-only.

A superuser or the table owner can still disable them (``ALTER TABLE … DISABLE
TRIGGER``); the hash chain and signed checkpoints are what detect such tampering.
Migration 0002_audit_log carries a frozen copy of these statements.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

APPEND_ONLY_TABLES = ("audit_records", "audit_checkpoints")

FORBID_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_forbid_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only: % on % is forbidden', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def trigger_statements(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION audit_forbid_change()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_forbid_change()",
    ]


def install_pg_triggers(connection: Connection) -> None:
    """Install the triggers (PostgreSQL only; a no-op on other dialects)."""
    if connection.dialect.name != "postgresql":
        return
    connection.execute(text(FORBID_FUNCTION))
    for table in APPEND_ONLY_TABLES:
        for statement in trigger_statements(table):
            connection.execute(text(statement))
