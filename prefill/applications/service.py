"""Submitting an application: re-check the token's locked values, validate the rest, store the
application and its outbox rows in one transaction, and read an application back.

Synchronous (the engine is); the router runs it in the threadpool. Nothing is written until every
check has passed, and then everything is written at once: a refusal stores nothing.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from prefill.applications.crypto import ValueCipher
from prefill.applications.errors import (
    ApplicationNotFoundError,
    InvalidValuesError,
    LockedValueChangedError,
    PrefillAlreadySubmittedError,
    PrefillTokenExpiredError,
    PrefillTokenInvalidError,
)
from prefill.applications.models import ApplicationRow, DeliveryRow
from prefill.applications.schemas import ApplicationStatus, ApplicationView, FormDelivery
from prefill.applications.splitting import DepartmentForm, split
from prefill.applications.validation import validate_values
from prefill.catalog.loader import Catalogue
from prefill.tokens import PrefillClaims, PrefillTokenError, PrefillTokenSigner

__all__ = [
    "ApplicationService",
    "SubmitResult",
    "application_status",
    "delivery_associated_data",
    "submission_key",
]

# Dates on the forms are the applicant's dates: Hubei's calendar day.
CHINA_STANDARD_TIME = timezone(timedelta(hours=8))

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time this service stores is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def submission_key(prefill_id: str, values: Mapping[str, str]) -> str:
    """The identity of a submission: the same prefill with the same values is the same application."""
    canonical = json.dumps(dict(values), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{prefill_id}\x00{canonical}".encode()).hexdigest()


def delivery_associated_data(application_id: str, form: str) -> str:
    return f"{application_id}:{form}"


def application_status(delivery_statuses: Iterable[str]) -> ApplicationStatus:
    """An application's status from its forms' deliveries."""
    statuses = list(delivery_statuses)
    if any(s == FAILED for s in statuses):
        return "delivery_failed"
    if statuses and all(s == DELIVERED for s in statuses):
        return "delivered"
    if any(s == DELIVERED for s in statuses):
        return "delivering"
    return "submitted"


def delivery_payload(
    application_id: str, theme: str, submitted_at: datetime, form: DepartmentForm
) -> dict[str, Any]:
    """The body the acceptance platform receives for one department form."""
    return {
        "application_id": application_id,
        "theme": theme,
        "form": form.form,
        "name": form.name,
        "department": form.department,
        "matters": list(form.matters),
        "submitted_at": submitted_at.isoformat(),
        "fields": form.fields,
    }


@dataclass(frozen=True)
class SubmitResult:
    application: ApplicationView
    created: bool  # False: the same submission was already stored


class ApplicationService:
    def __init__(
        self,
        engine: Engine,
        catalogue_for: Callable[[str], Catalogue],
        signer: PrefillTokenSigner,
        cipher: ValueCipher,
        *,
        clock: Callable[[], datetime] = utcnow,
        on_submitted: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        # The effective catalogue (with the shared-field registry's rules), as the prefill saw it.
        self.catalogue_for = catalogue_for
        self.signer = signer
        self.cipher = cipher
        self.clock = clock
        self.on_submitted = on_submitted  # wakes the delivery worker; must be thread-safe

    def _verify(self, token: str, now: datetime) -> PrefillClaims:
        try:
            claims = self.signer.verify(token, now=int(now.timestamp()))
        except PrefillTokenError as exc:
            if exc.code == "prefill_token_expired":
                raise PrefillTokenExpiredError(exc.detail) from None
            raise PrefillTokenInvalidError(exc.detail) from None
        return claims

    def submit(
        self, token: str, values: Mapping[str, str | None], *, client_id: str | None = None
    ) -> SubmitResult:
        now = self.clock()
        claims = self._verify(token, now)
        catalogue = self.catalogue_for(claims.theme)
        matters = list(claims.matters)
        if not matters or any(m not in catalogue.matters for m in matters):
            raise PrefillTokenInvalidError("the prefill token names matters this theme does not have")

        changed = self.signer.changed_locked_fields(claims, values)
        if changed:
            raise LockedValueChangedError(sorted(changed))
        today: date = now.astimezone(CHINA_STANDARD_TIME).date()
        result = validate_values(catalogue, matters, values, today=today)
        if not result.ok:
            raise InvalidValuesError(result.errors)

        key = submission_key(claims.prefill_id, result.values)
        existing = self._existing(claims.prefill_id, key)
        if existing is not None:
            return SubmitResult(existing, created=False)

        application_id = uuid.uuid4().hex
        forms = split(catalogue, matters, result.values)
        application = ApplicationRow(
            id=application_id,
            submission_key=key,
            prefill_id=claims.prefill_id,
            theme=claims.theme,
            matters=json.dumps(matters),
            subject_key=claims.subject_key,
            client_id=client_id,
            status=application_status(PENDING for _ in forms),
            created_at=now,
            values_blob=self.cipher.encrypt_json(result.values, application_id),
        )
        deliveries = [
            DeliveryRow(
                id=uuid.uuid4().hex,
                application_id=application_id,
                form=form.form,
                department=form.department,
                idempotency_key=uuid.uuid4().hex,
                status=PENDING,
                attempts=0,
                next_attempt_at=now,
                payload_blob=self.cipher.encrypt_json(
                    delivery_payload(application_id, claims.theme, now, form),
                    delivery_associated_data(application_id, form.form),
                ),
            )
            for form in forms
        ]
        try:
            with Session(self.engine) as session:
                session.add(application)
                session.flush()  # the parent row first: the outbox rows reference it
                session.add_all(deliveries)
                session.commit()
        except IntegrityError:
            # A concurrent identical POST won the race: answer with its application.
            existing = self._existing(claims.prefill_id, key)
            if existing is None:
                raise
            return SubmitResult(existing, created=False)
        if self.on_submitted is not None:
            self.on_submitted()
        return SubmitResult(self.get(application_id), created=True)

    def _existing(self, prefill_id: str, key: str) -> ApplicationView | None:
        with Session(self.engine) as session:
            row = session.scalars(
                select(ApplicationRow).where(ApplicationRow.prefill_id == prefill_id)  # type: ignore[arg-type]
            ).first()
            if row is None:
                return None
            if row.submission_key != key:
                raise PrefillAlreadySubmittedError(
                    "this prefill was already submitted with other values; prefill again to apply anew"
                )
            return self._view(session, row)

    def get(self, application_id: str, *, client_id: str | None = None) -> ApplicationView:
        """The application and its deliveries. With ``client_id``, only if that client submitted it."""
        with Session(self.engine) as session:
            row = session.get(ApplicationRow, application_id)
            if row is None or (client_id is not None and row.client_id != client_id):
                raise ApplicationNotFoundError("no such application")
            return self._view(session, row)

    def read_values(self, application_id: str) -> dict[str, str]:
        """The submitted values, decrypted (for staff tools and tests; never logged)."""
        with Session(self.engine) as session:
            row = session.get(ApplicationRow, application_id)
            if row is None:
                raise ApplicationNotFoundError("no such application")
            return cast(dict[str, str], self.cipher.decrypt_json(row.values_blob, row.id))

    def _view(self, session: Session, row: ApplicationRow) -> ApplicationView:
        catalogue = self.catalogue_for(row.theme)
        names = {form.code: form.name for form in catalogue.forms.original}
        deliveries = session.scalars(
            select(DeliveryRow).where(DeliveryRow.application_id == row.id)  # type: ignore[arg-type]
        ).all()
        order = {form.code: i for i, form in enumerate(catalogue.forms.original)}
        deliveries = sorted(deliveries, key=lambda d: order.get(d.form, len(order)))
        return ApplicationView(
            id=row.id,
            status=application_status(d.status for d in deliveries),
            theme=row.theme,
            matters=json.loads(row.matters),
            created_at=as_utc(row.created_at),
            forms=[
                FormDelivery(
                    form=d.form,
                    name=names.get(d.form, d.form),
                    department=d.department,
                    delivery=cast(Any, d.status),
                    attempts=d.attempts,
                    receipt_id=d.receipt_id,
                    delivered_at=as_utc(d.delivered_at) if d.delivered_at else None,
                    next_attempt_at=as_utc(d.next_attempt_at) if d.status == PENDING else None,
                    last_error=d.last_error,
                )
                for d in deliveries
            ],
        )
