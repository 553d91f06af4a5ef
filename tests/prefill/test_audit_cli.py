"""`prefill audit verify|export|verify-bundle` on the database the service wrote (SQLite or PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from connectors.simulator.config import SimulatorConfig
from connectors.simulator.identity import issue_assertion
from connectors.simulator.personas import persona_by_name
from prefill.cli import main


@pytest.fixture
def audited_database(client, auth_headers, settings):
    """A database holding the audit records of two prefills, the service stopped."""
    for persona in ("complete", "source-down"):
        headers = {
            **auth_headers("frontend"),
            "X-Applicant-Assertion": issue_assertion(SimulatorConfig(), persona_by_name(persona).id_number),
        }
        assert client.post("/v1/prefill", json={}, headers=headers).status_code == 200
    return settings.resolved_database_url


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def tamper(url: str, statement: str) -> None:
    from prefill.db import make_engine

    engine = make_engine(url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":  # a DBA with full power switches the guards off first
            connection.execute(text("SET session_replication_role = replica"))
        connection.execute(text(statement))
    engine.dispose()


def test_verify_passes_on_an_untouched_log(audited_database, capsys):
    code, out = run(capsys, "audit", "verify", "--json", "--database-url", audited_database)
    summary = json.loads(out)
    assert code == 0
    assert summary["ok"] is True and summary["first_bad_seq"] is None
    assert summary["records"] >= 16 and {"ok", "records", "checkpoints", "first_bad_seq"} <= set(summary)


def test_verify_names_the_first_modified_record(audited_database, capsys):
    tamper(audited_database, "UPDATE audit_records SET outcome = 'not_found' WHERE seq = 3")
    code, out = run(capsys, "audit", "verify", "--database-url", audited_database)
    assert code == 1
    assert "seq 3" in out


def test_export_verifies_offline_with_only_the_public_key(audited_database, capsys, tmp_path):
    bundle = tmp_path / "bundle.jsonl"
    assert main(["audit", "export", "--database-url", audited_database, "-o", str(bundle)]) == 0
    _, public_key = run(capsys, "audit", "public-key")
    code, out = run(
        capsys, "audit", "verify-bundle", str(bundle), "--public-key", public_key.strip(), "--json"
    )
    assert code == 0 and json.loads(out)["ok"] is True

    lines = bundle.read_text(encoding="utf-8").splitlines()
    record = next(i for i, line in enumerate(lines) if '"type":"record"' in line and '"seq":2,' in line)
    lines[record] = lines[record].replace('"outcome":"ok"', '"outcome":"timeout"')
    bundle.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out = run(
        capsys, "audit", "verify-bundle", str(bundle), "--public-key", public_key.strip(), "--json"
    )
    assert code == 1 and json.loads(out)["first_bad_seq"] == 2


def test_verify_refuses_a_database_without_an_audit_log(tmp_path, capsys):
    assert main(["audit", "verify", "--database-url", f"sqlite:///{tmp_path / 'empty.sqlite3'}"]) == 2
    assert "no audit log" in capsys.readouterr().err


def test_a_record_no_driver_can_decode_fails_the_log_instead_of_crashing(audited_database, capsys):
    if audited_database.startswith("postgresql"):
        tamper(audited_database, "UPDATE audit_records SET time = '10000-01-01 00:00:00+00' WHERE seq = 4")
    else:
        tamper(audited_database, "UPDATE audit_records SET time = 'the day after never' WHERE seq = 4")
    code, out = run(capsys, "audit", "verify", "--json", "--database-url", audited_database)
    summary = json.loads(out)
    assert code == 1 and summary["ok"] is False
    assert summary["first_bad_seq"] is not None and summary["first_bad_seq"] <= 4
