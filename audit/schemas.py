"""What callers pass to the audit log and what they get back.

Records hold no personal values: the subject appears as a masked display value and a
keyed pseudonym (``masking.pseudonym``), and only field *codes* are recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from masking import MASK_CHAR, mask, pseudonym

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
ShortText = Annotated[str, Field(max_length=64)]


class Outcome(StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"
    ERROR = "error"
    TIMEOUT = "timeout"
    CACHE_HIT = "cache_hit"
    DENIED = "denied"
    UNAVAILABLE = "unavailable"  # circuit open: the source was not asked


class Action(StrEnum):
    SOURCE_READ = "source_read"
    CERTIFICATE_LOOKUP = "certificate_lookup"
    CACHE_DISCLOSURE = "cache_disclosure"
    DENIAL = "denial"
    AUDIT_QUERY = "audit_query"
    AUDIT_EXPORT = "audit_export"
    ACCESS_LOG_VIEW = "access_log_view"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Requester(_Frozen):
    client_id: ShortText
    role: Annotated[str, Field(max_length=32)]
    department: ShortText | None = None
    operator_id: ShortText | None = None


class Purpose(_Frozen):
    theme: ShortText | None = None
    matters: tuple[Code, ...] = ()
    case_id: ShortText | None = None
    application_id: ShortText | None = None
    legal_basis: Annotated[str, Field(max_length=256)] | None = None


class SourceRef(_Frozen):
    department: ShortText
    source: ShortText
    service: Annotated[str, Field(max_length=128)] | None = None


class Subject(_Frozen):
    """Whose data: a masked display value and a keyed pseudonym for lookup, never the plain ID."""

    display: Annotated[str, Field(max_length=128)] = ""
    key: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]

    @field_validator("display")
    @classmethod
    def _display_is_masked(cls, value: str) -> str:
        if value and MASK_CHAR not in value:
            raise ValueError("subject display must be a masked value")
        return value

    @classmethod
    def from_id_number(cls, id_number: str, pseudonym_key: bytes) -> Subject:
        return cls(display=mask(id_number, "id_number"), key=pseudonym(id_number, pseudonym_key))


class AuditEvent(_Frozen):
    """One cross-department read (or cache disclosure, certificate lookup, denial) to record."""

    action: Action = Action.SOURCE_READ
    requester: Requester
    purpose: Purpose = Purpose()
    source: SourceRef
    subject: Subject | None = None
    fields: tuple[Code, ...] = ()
    outcome: Outcome
    latency_ms: Annotated[int, Field(ge=0)] | None = None
    request_id: ShortText | None = None
    restricted: bool = False
    reason: Annotated[str, Field(max_length=128, pattern=r"^[A-Za-z0-9_.:\-]*$")] | None = None
    time: datetime | None = None  # when it happened; the log's clock when omitted

    @field_validator("time")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("time must be timezone-aware")
        return value


class AuditRecord(_Frozen):
    """A stored record: the event plus its place in the chain."""

    seq: int
    time: datetime
    action: Action
    request_id: str | None
    requester: Requester
    purpose: Purpose
    source: SourceRef
    subject_display: str | None
    subject_key: str | None
    fields: tuple[str, ...]
    outcome: Outcome
    latency_ms: int | None
    restricted: bool
    reason: str | None
    prev_hash: str
    hash: str

    def view(self) -> AuditRecordView:
        return AuditRecordView(
            seq=self.seq,
            time=self.time,
            action=self.action,
            request_id=self.request_id,
            requester=self.requester.client_id,
            role=self.requester.role,
            department=self.requester.department,
            operator_id=self.requester.operator_id,
            purpose=self.purpose,
            source=self.source.source,
            source_department=self.source.department,
            source_service=self.source.service,
            subject=self.subject_display or "",
            fields=list(self.fields),
            outcome=self.outcome,
            latency_ms=self.latency_ms,
            restricted=self.restricted,
            reason=self.reason,
            hash=self.hash,
        )


class AuditRecordView(BaseModel):
    """An item of ``GET /v1/audit/events``: masked values only, flat keys of the contract."""

    seq: int
    time: datetime
    action: Action
    request_id: str | None
    requester: str
    role: str
    department: str | None
    operator_id: str | None
    purpose: Purpose
    source: str
    source_department: str
    source_service: str | None
    subject: str
    fields: list[str]
    outcome: Outcome
    latency_ms: int | None
    restricted: bool
    reason: str | None
    hash: str


class AccessLogEntry(BaseModel):
    """An item of the citizen's own access log (``GET /v1/me/access-log``)."""

    time: datetime
    receiver: str | None  # the department that received the data
    receiver_client: str
    purpose: Purpose
    source: str
    source_department: str
    fields: list[str]
    outcome: Outcome


class AuditFilters(BaseModel):
    """Auditor filters; every one optional, all combined with AND."""

    model_config = ConfigDict(extra="forbid")

    subject: Subject | None = None  # build with Subject.from_id_number: the server hashes the ID
    requester: str | None = None  # client id
    department: str | None = None  # requester's or source's department
    requester_department: str | None = None
    source_department: str | None = None
    source: str | None = None
    matter: str | None = None
    outcome: Outcome | None = None
    action: Action | None = None
    request_id: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive

    @field_validator("since", "until")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("time bounds must be timezone-aware")
        return value.astimezone(UTC)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


class Checkpoint(_Frozen):
    id: int
    seq: int
    head_hash: str
    time: datetime
    key_id: str
    signature: str


class VerifyResult(BaseModel):
    ok: bool
    records: int
    checkpoints: int
    first_bad_seq: int | None = None
    reason: str | None = None
    head_seq: int = 0
    head_hash: str | None = None
    anchored_seq: int | None = None  # highest seq covered by a valid checkpoint

    def summary(self) -> dict[str, Any]:
        """The contract shape of ``GET /v1/audit/verify`` and ``prefill audit verify --json``."""
        return {
            "ok": self.ok,
            "records": self.records,
            "checkpoints": self.checkpoints,
            "first_bad_seq": self.first_bad_seq,
            "reason": self.reason,
            "anchored_seq": self.anchored_seq,
        }
