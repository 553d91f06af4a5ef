"""The ``clients`` table: every caller of the service is one row (migration 0003_clients creates it)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

__all__ = ["ClientRow"]


class ClientRow(SQLModel, table=True):
    __tablename__ = "clients"

    id: str = Field(sa_column=sa.Column(sa.String(32), primary_key=True))
    name: str = Field(sa_column=sa.Column(sa.String(128), nullable=False))
    role: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    department: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), nullable=True))
    # The public half of the key (``pf_<key_id>_<secret>``): how a presented key finds its row.
    key_id: str = Field(sa_column=sa.Column(sa.String(32), nullable=False, unique=True))
    # HMAC-SHA256 of the whole key under the server's pepper, hex (see service.hash_key for why).
    key_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    revoked_at: datetime | None = Field(
        default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=True)
    )
