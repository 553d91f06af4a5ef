"""Clients and their keys: add, list, revoke, authenticate; and the deterministic demo clients of
simulated mode.

A key looks like ``pf_<key_id>_<secret>``: the key id finds the row (it is shown in listings and logs),
the secret is 256 random bits. Only an HMAC of the whole key is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from prefill.auth.errors import ClientNotFoundError, UnauthenticatedError
from prefill.auth.models import ClientRow
from prefill.errors import BadRequestError

__all__ = [
    "Client",
    "ClientService",
    "DevClient",
    "IssuedClient",
    "Role",
    "dev_client_specs",
    "dev_credentials",
    "dev_key",
    "hash_key",
    "parse_key",
]

KEY_PREFIX = "pf"
_KEY = re.compile(r"^pf_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
_NAME = re.compile(r"^[\w .:@/-]{1,128}$")

# The per-request lookup, in Core: an ORM session (identity map, unit of work, SQLModel instances) cost
# ~0.2 ms a request for one indexed row; this statement, compiled once and cached, ~0.04 ms.
_CLIENTS = ClientRow.__table__  # type: ignore[attr-defined]
_BY_KEY_ID = sa.select(
    _CLIENTS.c.id,
    _CLIENTS.c.name,
    _CLIENTS.c.role,
    _CLIENTS.c.department,
    _CLIENTS.c.key_id,
    _CLIENTS.c.created_at,
    _CLIENTS.c.revoked_at,
    _CLIENTS.c.key_hash,
).where(_CLIENTS.c.key_id == sa.bindparam("key_id"))


class Role(StrEnum):
    frontend = "frontend"  # form frontends: prefill and submit, for the applicant of an assertion
    window = "window"  # window staff: the same, for an applicant at the counter, with operator and case
    auditor = "auditor"  # reads and verifies the audit log
    department = "department"  # registers shared fields of its own department
    admin = "admin"  # operates the service (clients, registry); reads no personal data


@dataclass(frozen=True)
class Client:
    """A client as the rest of the service sees it: never the key or its hash."""

    id: str
    name: str
    role: Role
    department: str | None
    key_id: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def from_row(cls, row: ClientRow) -> Client:
        return cls(
            id=row.id,
            name=row.name,
            role=Role(row.role),
            department=row.department,
            key_id=row.key_id,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )


@dataclass(frozen=True)
class IssuedClient:
    """A new client and its key. The key is in no other place: show it once, then let it go."""

    client: Client
    key: str


def parse_key(key: str) -> tuple[str, str] | None:
    """``(key_id, secret)`` of a well-formed key, else None."""
    match = _KEY.match(key)
    return (match.group(1), match.group(2)) if match else None


def hash_key(key: str, pepper: bytes) -> str:
    """HMAC-SHA256 of ``key`` under the server's pepper, hex.

    A fast hash is right here, unlike for passwords: a key carries 256 random bits, so no amount of
    guessing speed makes brute force feasible, and a slow KDF (bcrypt, Argon2) would only add
    milliseconds to every request. The pepper (kept out of the database) means a stolen copy of the
    table alone does not even let anyone test a candidate key offline.
    """
    return hmac.new(pepper, key.encode("ascii"), hashlib.sha256).hexdigest()


def _format_key(key_id: str, secret: str) -> str:
    return f"{KEY_PREFIX}_{key_id}_{secret}"


def new_key() -> tuple[str, str]:
    """A fresh ``(key_id, key)`` from the OS's CSPRNG."""
    key_id = secrets.token_hex(8)
    return key_id, _format_key(key_id, secrets.token_urlsafe(32))


def dev_key(seed: bytes, name: str) -> tuple[str, str]:
    """The ``(key_id, key)`` of demo client ``name``, derived from the development seed (simulated mode)."""
    key_id = hmac.new(seed, b"key-id\0" + name.encode(), hashlib.sha256).hexdigest()[:16]
    raw = hmac.new(seed, b"secret\0" + name.encode(), hashlib.sha256).digest()
    return key_id, _format_key(key_id, base64.urlsafe_b64encode(raw).rstrip(b"=").decode())


@dataclass(frozen=True)
class DevClient:
    name: str
    role: Role
    department: str | None = None


def dev_client_specs(departments: Iterable[str]) -> list[DevClient]:
    """One demo client per role, and one ``department`` client per department."""
    specs = [DevClient(f"dev-{role.value}", role) for role in Role if role is not Role.department]
    specs += [DevClient(f"dev-department-{code}", Role.department, code) for code in sorted(departments)]
    return specs


def dev_credentials(seed: bytes, departments: Iterable[str]) -> dict[str, object]:
    """The demo keys in the contract's shape (DESIGN §5, ``prefill dev credentials --json``)."""
    result: dict[str, object] = {}
    by_department: dict[str, str] = {}
    for spec in dev_client_specs(departments):
        key = dev_key(seed, spec.name)[1]
        if spec.department is None:
            result[spec.role.value] = key
        else:
            by_department[spec.department] = key
    result[Role.department.value] = by_department
    return result


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ClientService:
    """The ``clients`` table. Every check reads the database, so that a revocation holds at once."""

    def __init__(
        self,
        engine: Engine,
        pepper: bytes,
        *,
        departments: Iterable[str] | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.engine = engine
        self.pepper = pepper
        self.departments = frozenset(departments) if departments is not None else None
        self.clock = clock

    def _check(self, name: str, role: Role, department: str | None) -> None:
        if not _NAME.match(name):
            raise BadRequestError("a client name has 1 to 128 letters, digits, spaces or . : @ / - _")
        if role is Role.department and not department:
            raise BadRequestError("a department client needs its department code")
        if role is not Role.department and department:
            raise BadRequestError("only department clients belong to a department")
        if department and self.departments is not None and department not in self.departments:
            raise BadRequestError(f"unknown department; known: {', '.join(sorted(self.departments))}")

    def _insert(self, name: str, role: Role, department: str | None, key_id: str, key: str) -> Client:
        row = ClientRow(
            id=uuid.uuid4().hex,
            name=name,
            role=role.value,
            department=department,
            key_id=key_id,
            key_hash=hash_key(key, self.pepper),
            created_at=self.clock(),
        )
        with Session(self.engine) as session:
            session.add(row)
            session.commit()
            session.refresh(row)
            return Client.from_row(row)

    def add(self, name: str, role: Role | str, department: str | None = None) -> IssuedClient:
        role = Role(role)
        self._check(name, role, department)
        key_id, key = new_key()
        return IssuedClient(self._insert(name, role, department, key_id, key), key)

    def ensure(self, name: str, role: Role, department: str | None, key_id: str, key: str) -> Client:
        """Insert a client with a given key unless its key id exists (idempotent demo seeding).

        An existing row is left as it is — a revoked demo client stays revoked across restarts.
        """
        self._check(name, role, department)
        existing = self._by_key_id(key_id)
        if existing is not None:
            return existing
        try:
            return self._insert(name, role, department, key_id, key)
        except IntegrityError:  # another process seeded it first
            found = self._by_key_id(key_id)
            assert found is not None
            return found

    def _by_key_id(self, key_id: str) -> Client | None:
        with Session(self.engine) as session:
            row = session.exec(select(ClientRow).where(ClientRow.key_id == key_id)).first()
            return Client.from_row(row) if row else None

    def list(self, *, include_revoked: bool = True) -> list[Client]:
        with Session(self.engine) as session:
            query = select(ClientRow).order_by(ClientRow.created_at, ClientRow.name)  # type: ignore[arg-type]
            if not include_revoked:
                query = query.where(ClientRow.revoked_at.is_(None))  # type: ignore[union-attr]
            return [Client.from_row(row) for row in session.exec(query)]

    def revoke(self, ident: str) -> Client:
        """Revoke by client id or key id; revoking twice keeps the first time."""
        with Session(self.engine) as session:
            row = session.exec(
                select(ClientRow).where((ClientRow.id == ident) | (ClientRow.key_id == ident))
            ).first()
            if row is None:
                raise ClientNotFoundError("no client has this id or key id")
            if row.revoked_at is None:
                row.revoked_at = self.clock()
                session.add(row)
                session.commit()
                session.refresh(row)
            return Client.from_row(row)

    def authenticate(self, presented: str) -> Client:
        """The active client whose key this is; otherwise ``UnauthenticatedError`` (one answer for all)."""
        parsed = parse_key(presented)
        if parsed is None:
            raise UnauthenticatedError("the client key is malformed")
        row_client: Client | None = None
        stored_hash = None
        # Read on every request, never cached: a revoked key stops working at once.
        with self.engine.connect() as connection:
            row = connection.execute(_BY_KEY_ID, {"key_id": parsed[0]}).first()
        if row is not None:
            row_client = Client(
                id=row.id,
                name=row.name,
                role=Role(row.role),
                department=row.department,
                key_id=row.key_id,
                created_at=row.created_at,
                revoked_at=row.revoked_at,
            )
            stored_hash = row.key_hash
        # Compare even when there is no row, so that timing says nothing about which key ids exist.
        presented_hash = hash_key(presented, self.pepper)
        matches = hmac.compare_digest(presented_hash, stored_hash or "0" * 64)
        if row_client is None or not matches or not row_client.active:
            raise UnauthenticatedError("the client key is unknown or revoked")
        return row_client


def seed_dev_clients(service: ClientService, seed: bytes, departments: Iterable[str]) -> list[Client]:
    """Make sure the demo clients of simulated mode exist (their keys: ``dev_credentials``)."""
    clients = []
    for spec in dev_client_specs(departments):
        key_id, key = dev_key(seed, spec.name)
        clients.append(service.ensure(spec.name, spec.role, spec.department, key_id, key))
    return clients
