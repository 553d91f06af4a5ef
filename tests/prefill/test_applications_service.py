"""Submitting applications on the engine under test: re-checks, refusals that store nothing,
idempotency, encryption at rest (SQLite, or PostgreSQL with PREFILL_TEST_DATABASE_URL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from prefill import db
from prefill.applications.crypto import ValueCipher
from prefill.applications.errors import (
    ApplicationNotFoundError,
    InvalidValuesError,
    LockedValueChangedError,
    PrefillAlreadySubmittedError,
    PrefillTokenExpiredError,
    PrefillTokenInvalidError,
)
from prefill.applications.service import ApplicationService
from prefill.catalog.service import CatalogueStore
from prefill.errors import ServiceError
from prefill.tokens import PrefillTokenSigner

from .applications_data import ID_NUMBER, LOCKED_FIELDS, THEME, VALID_VALUES, all_matters, values_for

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
TOKEN_KEY = b"test-token-key-of-thirty-two-b!!"
TTL = 1800


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    db.upgrade(database_url)
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def signer() -> PrefillTokenSigner:
    return PrefillTokenSigner(TOKEN_KEY, TTL)


@pytest.fixture
def service(engine: Engine, signer: PrefillTokenSigner, clock: Clock) -> ApplicationService:
    return ApplicationService(
        engine, CatalogueStore.load().get, signer, ValueCipher.from_hex("33" * 32), clock=clock
    )


def issue(signer: PrefillTokenSigner, matters: list[str] | None = None, *, at: datetime = NOW) -> str:
    locked = {code: VALID_VALUES[code] for code in LOCKED_FIELDS}
    token, _ = signer.issue(
        prefill_id=uuid.uuid4().hex,
        theme=THEME,
        matters=matters or all_matters(),
        subject_key="subject-pseudonym",
        locked_values=locked,
        now=int(at.timestamp()),
    )
    return token


def counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        apps = connection.execute(sa.text("SELECT COUNT(*) FROM applications")).scalar_one()
        deliveries = connection.execute(sa.text("SELECT COUNT(*) FROM application_deliveries")).scalar_one()
    return apps, deliveries


def test_a_submission_stores_the_application_and_one_outbox_row_per_form(service, signer, engine):
    result = service.submit(issue(signer), VALID_VALUES, client_id="client-1")
    assert result.created
    view = result.application
    assert view.status == "submitted"
    assert [(f.form, f.department, f.delivery) for f in view.forms] == [
        ("employment_registration_form", "employment_center", "pending"),
        ("sscard_application_form", "hrss_info_center", "pending"),
        ("medical_registration_form", "medical_security", "pending"),
        ("contribution_declaration_form", "tax", "pending"),
        ("dossier_receive_application", "talent_center", "pending"),
    ]
    assert counts(engine) == (1, 5)
    assert service.read_values(view.id) == VALID_VALUES
    assert service.get(view.id, client_id="client-1") == view


def test_only_the_forms_of_the_requested_matters(service, signer):
    matters = ["medical_enrolment", "contribution_declaration"]
    view = service.submit(issue(signer, matters), values_for(matters)).application
    assert [f.form for f in view.forms] == ["medical_registration_form", "contribution_declaration_form"]


def test_the_same_submission_twice_is_one_application(service, signer, engine):
    token = issue(signer)
    first = service.submit(token, VALID_VALUES)
    second = service.submit(token, dict(reversed(list(VALID_VALUES.items()))))  # key order is no difference
    assert first.created and not second.created
    assert second.application.id == first.application.id
    assert counts(engine) == (1, 5)


def test_other_values_under_an_already_submitted_prefill_are_refused(service, signer, engine):
    token = issue(signer)
    service.submit(token, VALID_VALUES)
    with pytest.raises(PrefillAlreadySubmittedError):
        service.submit(token, {**VALID_VALUES, "mailing_address": "湖北省武汉市武昌区另一路2号"})
    assert counts(engine) == (1, 5)


def test_a_changed_locked_value_is_refused_naming_the_field(service, signer, engine):
    for field in LOCKED_FIELDS:  # one database for all: each refusal must leave it empty
        changed = {**VALID_VALUES, field: "13900000009" if field == "mobile" else "2"}
        with pytest.raises(LockedValueChangedError) as info:
            service.submit(issue(signer), changed)
        assert info.value.extensions["fields"] == [field]
        assert info.value.status == 409 and info.value.code == "locked_value_changed"
        assert counts(engine) == (0, 0)


def test_a_left_out_locked_value_counts_as_changed(service, signer, engine):
    values = {k: v for k, v in VALID_VALUES.items() if k not in ("name", "mobile")}
    with pytest.raises(LockedValueChangedError) as info:
        service.submit(issue(signer), values)
    assert info.value.extensions["fields"] == ["mobile", "name"]
    assert counts(engine) == (0, 0)


def test_an_expired_token_says_so(service, signer, engine, clock):
    token = issue(signer)
    clock.now = NOW + timedelta(seconds=TTL)
    with pytest.raises(PrefillTokenExpiredError) as info:
        service.submit(token, VALID_VALUES)
    assert info.value.code == "prefill_token_expired"
    assert counts(engine) == (0, 0)


def test_a_forged_or_malformed_token_is_refused(service, engine):
    forged = issue(PrefillTokenSigner(b"another-key-of-thirty-two-bytes!", TTL))  # signed with another key
    for token in ("not-a-token", "", forged, forged[:-2]):
        with pytest.raises(PrefillTokenInvalidError):
            service.submit(token, VALID_VALUES)
    assert counts(engine) == (0, 0)


def test_a_token_naming_unknown_matters_is_refused(service, signer, engine):
    with pytest.raises(PrefillTokenInvalidError):
        service.submit(issue(signer, ["employment_registration", "moon_landing"]), VALID_VALUES)
    assert counts(engine) == (0, 0)


INVALID = [
    ("ethnicity", "99", "invalid_code"),
    ("hukou_region_code", "4201", "invalid_code"),
    ("social_security_number", "4" * 19, "too_long"),
    ("employment_start_date", "2025-13-01", "invalid_date"),
    ("postal_code", "4300", "invalid_postal_code"),
    ("favourite_colour", "blue", "unknown_field"),
]


def test_invalid_values_are_named_and_nothing_is_stored(service, signer, engine):
    for field, value, reason in INVALID:
        with pytest.raises(InvalidValuesError) as info:
            service.submit(issue(signer), {**VALID_VALUES, field: value})
        error = info.value
        assert error.status == 422 and error.code == "invalid_values"
        assert error.extensions["errors"] == [{"field": field, "reason": reason}]
        assert value not in error.detail and value not in str(error.extensions)
    assert counts(engine) == (0, 0)


def test_an_id_number_with_a_bad_check_digit_is_caught_by_the_lock_first(service, signer, engine):
    # The ID number is locked (from the applicant's assertion): any change is a changed lock.
    with pytest.raises(LockedValueChangedError):
        service.submit(issue(signer), {**VALID_VALUES, "id_number": ID_NUMBER[:-1] + "8"})
    assert counts(engine) == (0, 0)


def test_no_personal_value_is_stored_in_clear(service, signer, engine):
    view = service.submit(issue(signer), VALID_VALUES).application
    dump: list[str] = []
    with engine.connect() as connection:
        for table in ("applications", "application_deliveries"):
            for row in connection.execute(sa.text(f"SELECT * FROM {table}")).all():
                for cell in row:
                    dump.append(cell.hex() if isinstance(cell, bytes) else str(cell))
                    if isinstance(cell, bytes):
                        dump.append(cell.decode("latin-1"))
    text = "\n".join(dump)
    personal = [
        "王测完",
        ID_NUMBER,
        "13800000001",
        "wang@example.cn",
        "测试路",
        "1988-03-15",
        "武汉市人才服务中心",
    ]
    for value in personal:
        assert value not in text
        assert value.encode().hex() not in text
    assert view.id in text


def test_an_application_is_only_shown_to_the_client_that_submitted_it(service, signer):
    view = service.submit(issue(signer), VALID_VALUES, client_id="client-1").application
    with pytest.raises(ApplicationNotFoundError):
        service.get(view.id, client_id="client-2")
    with pytest.raises(ApplicationNotFoundError):
        service.get("0" * 32)


def test_every_refusal_is_a_service_error_with_a_stable_code():
    for error in (
        PrefillTokenInvalidError,
        PrefillTokenExpiredError,
        PrefillAlreadySubmittedError,
        ApplicationNotFoundError,
    ):
        assert issubclass(error, ServiceError) and error.code
