from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

from connectors.config import load_sources
from connectors.errors import ConfigError
from connectors.signing import sign_request, verify_signature
from connectors.simulator.personas import PERSONAS, persona_by_id_number, persona_by_name

MODULES = [
    "connectors.signing",
    "connectors.idnumber",
    "connectors.codesets",
    "connectors.http",
    "connectors.resilience",
    "connectors.simulator.personas",
    "connectors.simulator.population",
]


@pytest.mark.parametrize("name", MODULES)
def test_module_doctests(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0 and result.attempted > 0


@pytest.mark.parametrize("method", ["HMAC-SHA256", "HMAC-SM3"])
def test_signature_covers_method_path_timestamp_nonce_and_body(method):
    args = {"secret": "s", "method": method}
    h = sign_request("POST", "/a?x=1", b'{"k":1}', app_key="k", timestamp=1700000000, nonce="n", **args)
    sig = h["X-Signature"]
    ok = {"timestamp": "1700000000", "nonce": "n", "signature": sig}
    assert verify_signature("POST", "/a?x=1", b'{"k":1}', **args, **ok)
    assert not verify_signature("GET", "/a?x=1", b'{"k":1}', **args, **ok)
    assert not verify_signature("POST", "/a?x=2", b'{"k":1}', **args, **ok)
    assert not verify_signature("POST", "/a?x=1", b'{"k":2}', **args, **ok)
    assert not verify_signature("POST", "/a?x=1", b'{"k":1}', **args, **{**ok, "nonce": "m"})
    assert not verify_signature("POST", "/a?x=1", b'{"k":1}', **args, **{**ok, "timestamp": "1700000001"})
    assert not verify_signature("POST", "/a?x=1", b'{"k":1}', secret="t", method=method, **ok)
    assert not verify_signature("POST", "/a?x=1", b'{"k":1}', secret="s", method="HMAC-MD5", **ok)


def test_sm3_and_sha256_signatures_differ():
    a = sign_request("POST", "/", b"", app_key="k", secret="s", method="HMAC-SHA256", timestamp=1, nonce="n")
    b = sign_request("POST", "/", b"", app_key="k", secret="s", method="HMAC-SM3", timestamp=1, nonce="n")
    assert a["X-Signature"] != b["X-Signature"]


def test_load_sources_overrides(monkeypatch):
    monkeypatch.setenv("PREFILL_SOURCE_TAX_CONTRIBUTION_SECRET", "from-env")
    configs = load_sources(base_url_override="http://sim:1", secrets={"psb_identity": "given"})
    assert {c.base_url for c in configs.values()} == {"http://sim:1"}
    assert configs["psb_identity"].credentials.resolved_secret() == "given"
    assert configs["tax_contribution"].credentials.resolved_secret() == "from-env"
    assert "given" not in repr(configs["psb_identity"])


def test_invalid_source_file_is_a_config_error(tmp_path: Path):
    bad = tmp_path / "sources.yaml"
    bad.write_text("sources:\n  x: {department: psb}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'x'"):
        load_sources(bad)
    with pytest.raises(ConfigError):
        load_sources(tmp_path / "missing.yaml")


def test_persona_lookup():
    assert set(PERSONAS) == {
        "complete", "never-insured", "no-household-record", "certificate-revoked", "certificate-expired",
        "certificate-bad-signature", "unknown-person", "slow-source", "source-down",
    }  # fmt: skip
    assert persona_by_id_number("42060219850611046x") is persona_by_name("certificate-revoked")
    assert persona_by_id_number("420102198803150145") is None
    with pytest.raises(KeyError, match="known"):
        persona_by_name("nobody")
