"""Offline verification of an export bundle (JSON lines) with nothing but the public key.

Bundle layout, one JSON object per line: a ``header``; every ``checkpoint`` up to the
exported head; every ``record`` in ``seq`` order; an ``end`` line with the counts. The
public keys in the header are informational only: trust comes from the key the auditor
passes in, obtained out of band.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.chain import ChainVerifier, load_public_key
from audit.schemas import VerifyResult
from audit.store import BUNDLE_FORMAT

__all__ = ["verify_bundle"]


def _failed(base: VerifyResult, first_bad_seq: int, reason: str) -> VerifyResult:
    return base.model_copy(update={"ok": False, "first_bad_seq": first_bad_seq, "reason": reason})


def verify_bundle(
    lines: Iterable[str | bytes],
    public_key: Ed25519PublicKey | bytes | str | Sequence[Ed25519PublicKey | bytes | str],
) -> VerifyResult:
    """Verify a bundle written by ``AuditLog.export``; never raises on a malformed bundle."""
    keys_in: list[Ed25519PublicKey | bytes | str] = (
        list(public_key) if isinstance(public_key, list | tuple) else [public_key]  # type: ignore[list-item]
    )
    verifier = ChainVerifier([load_public_key(key) for key in keys_in])
    state = "start"
    end: dict[str, Any] | None = None
    problem: str | None = None
    for number, raw in enumerate(lines, start=1):
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        if not text.strip():
            continue
        try:
            item = json.loads(text)
            kind = item["type"]
        except (ValueError, KeyError, TypeError):
            problem = f"line {number} is not a bundle line"
            break
        if state == "start":
            if kind != "header" or item.get("format") != BUNDLE_FORMAT:
                problem = "bundle does not start with a known header"
                break
            state = "checkpoints"
        elif kind == "checkpoint" and state == "checkpoints":
            try:
                verifier.add_checkpoint(item)
            except (KeyError, ValueError, TypeError):
                problem = f"line {number} is not a valid checkpoint"
                break
        elif kind == "record" and state in ("checkpoints", "records"):
            state = "records"
            try:
                verifier.add_record(item)
            except (KeyError, ValueError, TypeError):
                problem = f"line {number} is not a valid record"
                break
        elif kind == "end" and state in ("checkpoints", "records"):
            end = item
            state = "end"
        else:
            problem = f"line {number}: unexpected {str(kind)[:20]!r} line"
            break
    result = verifier.result()
    if not result.ok:
        return result
    next_seq = result.head_seq + 1
    if problem is not None:
        return _failed(result, next_seq, problem)
    if end is None:
        return _failed(result, next_seq, "bundle ends early (no end line)")
    if end.get("records") != result.records or end.get("checkpoints") != result.checkpoints:
        return _failed(result, next_seq, "bundle counts disagree with its end line")
    return result
