"""The hash chain and signed checkpoints: pure functions, no I/O.

A record's hash is ``SHA-256(bytes.fromhex(prev_hash) || canonical(record))`` where
``canonical`` is sorted-key compact JSON (UTF-8) of every column except ``hash`` and
``prev_hash``; the first record links to :data:`GENESIS_HASH`. A checkpoint is an
Ed25519 signature over ``CHECKPOINT_DOMAIN || canonical({"seq", "head_hash", "time"})``;
it fixes the head of the chain at ``seq`` so that rewriting the chain or cutting its
tail after ``seq`` is detectable (as CloudTrail digests and CT signed tree heads do).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.schemas import VerifyResult

GENESIS_HASH = "0" * 64
CHECKPOINT_DOMAIN = b"prefill-audit-checkpoint/1\n"

# Columns covered by a record's hash, in storage form (lists as JSON text in the database).
RECORD_COLUMNS = (
    "seq",
    "time",
    "action",
    "request_id",
    "requester_client_id",
    "requester_role",
    "requester_department",
    "requester_operator_id",
    "purpose_theme",
    "purpose_matters",
    "purpose_case_id",
    "purpose_application_id",
    "purpose_legal_basis",
    "source_department",
    "source_name",
    "source_service",
    "subject_display",
    "subject_key",
    "fields",
    "outcome",
    "latency_ms",
    "restricted",
    "reason",
)
LIST_COLUMNS = ("purpose_matters", "fields")
_SORTED_COLUMNS = tuple(sorted(RECORD_COLUMNS))

_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
# Same output as _ENCODER for a dict whose keys were inserted in sorted order, without sorting each time.
_ORDERED_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def canonical_json(document: Any) -> bytes:
    """Sorted-key compact JSON, UTF-8."""
    return _ENCODER.encode(document).encode("utf-8")


def format_time(value: datetime) -> str:
    """UTC, microseconds, ``Z``: the one textual form of a time in hashes, signatures and bundles.

    Naive values (SQLite gives those back) are taken as UTC, which is how they were stored.
    """
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    # isoformat is several times faster than strftime and gives the same text for a naive value.
    return value.isoformat(timespec="microseconds") + "Z"


def parse_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def record_document(row: Mapping[str, Any]) -> dict[str, Any]:
    """The hashed document of a record: its columns, time as text, list columns as lists.

    ``row`` may come from the database (time a datetime, lists as JSON text) or from an
    export bundle (time as text, lists as lists).
    """
    document = {name: row[name] for name in _SORTED_COLUMNS}
    time = document["time"]
    if isinstance(time, datetime):
        document["time"] = format_time(time)
    for name in LIST_COLUMNS:
        if isinstance(document[name], str):
            document[name] = json.loads(document[name])
    return document


def record_hash(prev_hash: str, document: Mapping[str, Any]) -> str:
    """SHA-256 over the previous hash (32 bytes) and the canonical JSON of the record's columns."""
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical_json(document)).hexdigest()


def _hash_sorted(prev_hash: str, sorted_document: dict[str, Any]) -> str:
    """``record_hash`` for a document from ``record_document`` (keys already in sorted order)."""
    payload = _ORDERED_ENCODER.encode(sorted_document).encode("utf-8")
    return hashlib.sha256(bytes.fromhex(prev_hash) + payload).hexdigest()


# --- the fast path for rows from the database --------------------------------------------------
#
# A raw row is a tuple: the columns of ``_SORTED_COLUMNS`` in that order, then ``prev_hash`` and
# ``hash``, as the driver returns them (list columns as their stored JSON text). ``row_payload``
# builds the same bytes as ``canonical_json(record_document(row))`` without a dict or a JSON
# encoder: keys are fixed text, strings go through the encoder's own C escaping function, ints
# through ``int.__repr__`` (both raise TypeError on any other type, which sends the row to the
# exact path), and the list columns are spliced as stored. A row the fast path accepts is one
# the exact path accepts too: every key is preceded by a structural ``,"`` that cannot occur
# inside an escaped string or a list of strings, so bytes that hash to the stored hash pin
# every spliced value to the canonical text of the original. Anything else (a stored list not
# in canonical form, an odd type, a hash mismatch) is decided by ``ChainVerifier.add_record``.

ROW_COLUMNS = (*_SORTED_COLUMNS, "prev_hash", "hash")
_SEQ, _PREV, _HASH = ROW_COLUMNS.index("seq"), len(_SORTED_COLUMNS), len(_SORTED_COLUMNS) + 1
_TIME = ROW_COLUMNS.index("time")
_ROW_TEMPLATE = "{" + ",".join(f"{_ENCODER.encode(name)}:%s" for name in _SORTED_COLUMNS) + "}"
_BOOL_TEXT = {False: "false", True: "true"}  # 0 and 1 (SQLite) hash like False and True
_esc = encode_basestring  # the function json's C encoder uses when ensure_ascii is off
_int = int.__repr__
_str = str.__str__
assert _SORTED_COLUMNS == (  # the order row_payload below is written in
    "action", "fields", "latency_ms", "outcome", "purpose_application_id", "purpose_case_id",
    "purpose_legal_basis", "purpose_matters", "purpose_theme", "reason", "request_id",
    "requester_client_id", "requester_department", "requester_operator_id", "requester_role",
    "restricted", "seq", "source_department", "source_name", "source_service", "subject_display",
    "subject_key", "time",
)  # fmt: skip


def _not_int(value: Any) -> str:
    """A bool (an int subclass) in an integer column: JSON writes it otherwise; the exact path decides."""
    raise TypeError(f"not an int: {type(value).__name__}")


def row_payload(r: Sequence[Any], time_text: str) -> bytes:
    """Canonical JSON of a raw row whose time is already in :func:`format_time` form."""
    return (
        _ROW_TEMPLATE
        % (
            _esc(r[0]),
            _str(r[1]),
            "null" if r[2] is None else _int(r[2]) if r[2].__class__ is int else _not_int(r[2]),
            _esc(r[3]),
            "null" if r[4] is None else _esc(r[4]),
            "null" if r[5] is None else _esc(r[5]),
            "null" if r[6] is None else _esc(r[6]),
            _str(r[7]),
            "null" if r[8] is None else _esc(r[8]),
            "null" if r[9] is None else _esc(r[9]),
            "null" if r[10] is None else _esc(r[10]),
            _esc(r[11]),
            "null" if r[12] is None else _esc(r[12]),
            "null" if r[13] is None else _esc(r[13]),
            _esc(r[14]),
            _BOOL_TEXT[r[15]],
            _int(r[16]) if r[16].__class__ is int else _not_int(r[16]),
            _esc(r[17]),
            _esc(r[18]),
            "null" if r[19] is None else _esc(r[19]),
            "null" if r[20] is None else _esc(r[20]),
            "null" if r[21] is None else _esc(r[21]),
            _esc(time_text),
        )
    ).encode("utf-8")


# --- keys -----------------------------------------------------------------------------------------


def generate_signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_key_bytes(key: Ed25519PublicKey | Ed25519PrivateKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """First 16 bytes of SHA-256 of the raw public key, hex."""
    return hashlib.sha256(public_key_bytes(key)).hexdigest()[:32]


def load_public_key(data: bytes | str | Ed25519PublicKey) -> Ed25519PublicKey:
    """A public key from raw 32 bytes, base64 of them, or PEM (SubjectPublicKeyInfo)."""
    if isinstance(data, Ed25519PublicKey):
        return data
    raw = data.encode("ascii") if isinstance(data, str) else data
    if raw.lstrip().startswith(b"-----BEGIN"):
        key = serialization.load_pem_public_key(raw)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key
    if len(raw) != 32:
        try:
            raw = base64.b64decode(raw, validate=True)
        except binascii.Error as exc:
            raise ValueError("public key is neither raw, base64 nor PEM") from exc
    return Ed25519PublicKey.from_public_bytes(raw)


def load_signing_key(data: bytes | str) -> Ed25519PrivateKey:
    """A private key from PEM (PKCS#8, unencrypted) or raw 32-byte seed (or base64 of it)."""
    raw = data.encode("ascii") if isinstance(data, str) else data
    if raw.lstrip().startswith(b"-----BEGIN"):
        key = serialization.load_pem_private_key(raw, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("not an Ed25519 private key")
        return key
    if len(raw) != 32:
        raw = base64.b64decode(raw, validate=True)
    return Ed25519PrivateKey.from_private_bytes(raw)


def checkpoint_message(seq: int, head_hash: str, time: str) -> bytes:
    return CHECKPOINT_DOMAIN + canonical_json({"head_hash": head_hash, "seq": seq, "time": time})


def sign_checkpoint(key: Ed25519PrivateKey, seq: int, head_hash: str, time: str) -> str:
    return base64.b64encode(key.sign(checkpoint_message(seq, head_hash, time))).decode("ascii")


def checkpoint_signature_valid(public: Ed25519PublicKey, checkpoint: Mapping[str, Any]) -> bool:
    try:
        signature = base64.b64decode(checkpoint["signature"], validate=True)
        message = checkpoint_message(checkpoint["seq"], checkpoint["head_hash"], checkpoint["time"])
        public.verify(signature, message)
    except (InvalidSignature, binascii.Error, ValueError, TypeError):
        return False
    return True


# --- verification ---------------------------------------------------------------------------------


class ChainVerifier:
    """Checks checkpoints, then records in ``seq`` order, and names the first bad sequence number.

    Feed every checkpoint first (``add_checkpoint``, times as text), then every record
    (``add_record``) in the order the store or bundle gives them, then call ``result``.
    Memory is bounded by the number of checkpoints, not records.
    """

    def __init__(self, public_keys: Iterable[Ed25519PublicKey]) -> None:
        self._keys = {key_id(key): key for key in public_keys}
        self._checkpoints: dict[int, str] = {}  # seq -> head hash, of valid checkpoints
        self._checkpoint_count = 0
        self._last_checkpoint_seq = -1
        self._records = 0
        self._expected_seq = 1
        self._head_hash = GENESIS_HASH
        self._last_anchor = 0  # highest seq whose hash a checkpoint confirmed
        self._first_bad: int | None = None
        self._reason: str | None = None

    def _fail(self, seq: int, reason: str) -> None:
        if self._first_bad is None:
            self._first_bad = seq
            self._reason = reason

    def unreadable(self, error: Exception) -> None:
        """A record could not even be decoded (e.g. a time no calendar has): the log fails there."""
        self._fail(
            self._expected_seq,
            f"a record at or after seq {self._expected_seq} cannot be read ({type(error).__name__})",
        )

    @property
    def failed(self) -> bool:
        return self._first_bad is not None

    def add_checkpoint(self, checkpoint: Mapping[str, Any]) -> None:
        self._checkpoint_count += 1
        seq = int(checkpoint["seq"])
        public = self._keys.get(str(checkpoint.get("key_id")))
        if public is None:
            self._fail(seq, f"checkpoint {checkpoint.get('id')} is signed by an unknown key")
            return
        if not checkpoint_signature_valid(public, checkpoint):
            self._fail(seq, f"checkpoint {checkpoint.get('id')} has an invalid signature")
            return
        if seq < self._last_checkpoint_seq:
            self._fail(seq, f"checkpoint {checkpoint.get('id')} goes back in sequence")
            return
        self._last_checkpoint_seq = seq
        known = self._checkpoints.get(seq)
        if known is not None and known != checkpoint["head_hash"]:
            self._fail(seq, f"checkpoints disagree on the head at seq {seq}")
            return
        self._checkpoints[seq] = checkpoint["head_hash"]
        if seq == 0 and checkpoint["head_hash"] != GENESIS_HASH:
            self._fail(0, "checkpoint at seq 0 does not name the genesis hash")

    def add_record(self, row: Mapping[str, Any]) -> None:
        self._records += 1
        if self._first_bad is not None:
            return  # only count past the first failure
        seq = row["seq"]
        expected = self._expected_seq
        if seq != expected:
            if isinstance(seq, int) and seq > expected:
                self._fail(expected, f"record {expected} is missing (next present is {seq})")
            else:
                self._fail(expected, f"record {expected} is out of order or duplicated")
            return
        if row["prev_hash"] != self._head_hash:
            self._fail(seq, f"record {seq} does not link to record {seq - 1}")
            return
        if _hash_sorted(row["prev_hash"], record_document(row)) != row["hash"]:
            self._fail(seq, f"record {seq} was modified (hash mismatch)")
            return
        anchored = self._checkpoints.get(seq)
        if anchored is not None:
            if anchored != row["hash"]:
                self._fail(
                    self._last_anchor + 1,
                    f"chain rewritten between seq {self._last_anchor + 1} and {seq}: "
                    f"checkpoint at {seq} disagrees",
                )
                return
            self._last_anchor = seq
        self._head_hash = row["hash"]
        self._expected_seq = seq + 1

    def add_rows(
        self,
        rows: Iterable[Sequence[Any]],
        time_text: Callable[[Any], str],
        to_record: Callable[[Sequence[Any]], Mapping[str, Any]],
    ) -> None:
        """``add_record`` for raw rows (see ``ROW_COLUMNS``), with the fast path for intact records.

        ``time_text`` turns the driver's time value into :func:`format_time` text (raising on
        anything unexpected); ``to_record`` turns a raw row into the mapping ``add_record``
        takes (as SQLAlchemy would). A record that is not plainly the next intact link, or
        whose seq a checkpoint names, goes to ``add_record``, so results are the same.
        """
        sha256, fromhex = hashlib.sha256, bytes.fromhex
        checkpoints = self._checkpoints
        expected, head, records = self._expected_seq, self._head_hash, self._records
        seq_i, prev_i, hash_i, time_i = _SEQ, _PREV, _HASH, _TIME
        for row in rows:
            if self._first_bad is None and row[seq_i] == expected and row[prev_i] == head:
                try:
                    payload = row_payload(row, time_text(row[time_i]))
                except (TypeError, ValueError, KeyError, IndexError):
                    payload = None
                if (
                    payload is not None
                    and sha256(fromhex(head) + payload).hexdigest() == row[hash_i]
                    and row[seq_i] not in checkpoints
                ):
                    head = row[hash_i]
                    expected += 1
                    records += 1
                    continue
            self._expected_seq, self._head_hash, self._records = expected, head, records
            self.add_record(to_record(row))
            expected, head, records = self._expected_seq, self._head_hash, self._records
        self._expected_seq, self._head_hash, self._records = expected, head, records

    def check_head(self, head_seq: int, head_hash: str) -> None:
        """Compare the store's head row (a cache the sequencer keeps) once all records were fed."""
        if self._first_bad is not None:
            return
        last = self._expected_seq - 1
        if head_seq > last:
            self._fail(last + 1, f"log truncated: head says seq {head_seq} but the log ends at {last}")
        elif head_seq == last and head_hash != self._head_hash:
            self._fail(last, f"head hash disagrees with record {last}")

    def result(self) -> VerifyResult:
        last = self._expected_seq - 1
        if self._first_bad is None:
            beyond = [seq for seq in self._checkpoints if seq > last]
            if beyond:
                self._fail(
                    last + 1,
                    f"log truncated: a checkpoint covers seq {max(beyond)} but the log ends at {last}",
                )
        if 0 in self._checkpoints and self._first_bad is None:
            self._last_anchor = max(self._last_anchor, 0)
        anchored = self._last_anchor if self._checkpoints else None
        return VerifyResult(
            ok=self._first_bad is None,
            records=self._records,
            checkpoints=self._checkpoint_count,
            first_bad_seq=self._first_bad,
            reason=self._reason,
            head_seq=last,
            head_hash=self._head_hash,
            anchored_seq=anchored,
        )
