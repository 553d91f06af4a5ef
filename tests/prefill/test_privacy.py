"""After every persona's prefill, the raw database holds none of their ID numbers, names or phones."""

from __future__ import annotations

import sqlalchemy as sa

from connectors.simulator.config import SimulatorConfig
from connectors.simulator.identity import issue_assertion
from connectors.simulator.personas import PERSONAS
from masking import mask


def every_stored_text(engine: sa.Engine) -> str:
    """Every value of every column of every table, as one string (bytes decoded leniently)."""
    chunks: list[str] = []
    metadata = sa.MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(sa.select(table)):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        chunks.append(bytes(value).decode("utf-8", "replace"))
                    elif value is not None:
                        chunks.append(str(value))
    return "\n".join(chunks)


def test_no_persona_value_reaches_the_database(client, auth_headers):
    personas = list(PERSONAS.values())
    for persona in personas:
        headers = {
            **auth_headers("frontend"),
            "X-Applicant-Assertion": issue_assertion(SimulatorConfig(), persona.id_number),
        }
        assert client.post("/v1/prefill", json={}, headers=headers).status_code == 200
    stored = every_stored_text(client.app.state.prefill.engine)
    for persona in personas:
        # The search sees what was written about each persona: their masked ID number is there.
        assert mask(persona.id_number, "id_number") in stored
        for value in (persona.id_number, persona.full_name, persona.mobile):
            assert value not in stored, f"{persona.name}: a personal value is stored in clear"
