"""Validation of a submission's values against the catalogue. Pure: no I/O, no clock (``today`` is
passed in), no settings.

Every problem is reported as ``(field, reason)`` with a stable reason code; the rejected value is never
repeated, since it may be personal data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from connectors.errors import InvalidIdNumber
from connectors.idnumber import validate_id_number
from prefill.catalog.loader import Catalogue
from prefill.catalog.schemas import CanonicalField

# A free-text field with no max_length of its own still has one: no form box holds more.
DEFAULT_MAX_LENGTH = 200
EARLIEST_DATE = date(1900, 1, 1)


class Reason(StrEnum):
    unknown_field = "unknown_field"  # no such field in the merged form
    not_needed = "not_needed"  # a field of the form, but none of the requested matters needs it
    required = "required"
    not_a_string = "not_a_string"
    too_long = "too_long"
    invalid_characters = "invalid_characters"
    invalid_code = "invalid_code"
    invalid_date = "invalid_date"
    invalid_mobile = "invalid_mobile"
    invalid_id_number = "invalid_id_number"
    invalid_email = "invalid_email"
    invalid_postal_code = "invalid_postal_code"
    invalid_money = "invalid_money"


@dataclass(frozen=True)
class FieldError:
    field: str
    reason: Reason


@dataclass(frozen=True)
class ValidationResult:
    values: dict[str, str]  # the accepted values, normalised; absent optional fields are left out
    errors: list[FieldError]

    @property
    def ok(self) -> bool:
        return not self.errors


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Deliberately plain (RFC 5322 is not a form's business): one @, a dotted domain, no spaces.
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_POSTAL_CODE = re.compile(r"^\d{6}$")
_MONEY = re.compile(r"^\d{1,10}(\.\d{1,2})?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _check_date(value: str, today: date) -> Reason | str:
    if not _ISO_DATE.match(value):
        return Reason.invalid_date
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        return Reason.invalid_date
    if parsed < EARLIEST_DATE:
        return Reason.invalid_date
    return value


def _check_id_number(value: str, today: date) -> Reason | str:
    try:
        return validate_id_number(value, today=today)
    except InvalidIdNumber:
        return Reason.invalid_id_number


def _pattern(regex: re.Pattern[str], reason: Reason) -> Callable[[str, date], Reason | str]:
    def check(value: str, _today: date) -> Reason | str:
        return value if regex.match(value) else reason

    return check


def _check_money(value: str, today: date) -> Reason | str:
    if not _MONEY.match(value):
        return Reason.invalid_money
    try:
        amount = Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        return Reason.invalid_money
    return value if amount > 0 else Reason.invalid_money


# The checks of each field type (data, not branches). Coded types are checked against their code set.
_TYPE_CHECKS: dict[str, Callable[[str, date], Reason | str]] = {
    "date": _check_date,
    "mobile": _pattern(_MOBILE, Reason.invalid_mobile),
    "id_number": _check_id_number,
    "email": _pattern(_EMAIL, Reason.invalid_email),
    "postal_code": _pattern(_POSTAL_CODE, Reason.invalid_postal_code),
    "money": _check_money,
}


def _check_code(catalogue: Catalogue, spec: CanonicalField, value: str) -> Reason | str:
    codeset = catalogue.codesets.codesets[spec.codeset or ""]
    if value in codeset.codes:
        return value
    if codeset.open and codeset.pattern and re.fullmatch(codeset.pattern, value):
        return value
    return Reason.invalid_code


def check_value(catalogue: Catalogue, spec: CanonicalField, value: str, today: date) -> Reason | str:
    """The normalised value of one present field, or the reason it is refused."""
    if _CONTROL.search(value):
        return Reason.invalid_characters
    if len(value) > (spec.max_length or DEFAULT_MAX_LENGTH):
        return Reason.too_long
    if spec.codeset is not None:
        return _check_code(catalogue, spec, value)
    check = _TYPE_CHECKS.get(spec.type)
    return check(value, today) if check else value


def validate_values(
    catalogue: Catalogue,
    matters: Iterable[str],
    values: Mapping[str, object],
    *,
    today: date,
) -> ValidationResult:
    """Check ``values`` (field code → submitted value) for the fields the matters need.

    ``None`` and the empty string mean "not filled". Unknown codes and fields the matters do not need
    are refused (data minimisation holds for submissions as for prefills).
    """
    needed = {spec.code: spec for spec in catalogue.fields_for(matters)}
    errors: list[FieldError] = []
    accepted: dict[str, str] = {}
    for code in values:
        if code not in catalogue.fields:
            errors.append(FieldError(code, Reason.unknown_field))
        elif code not in needed:
            errors.append(FieldError(code, Reason.not_needed))
    for code, spec in needed.items():
        value = values.get(code)
        if value is None or value == "":
            if spec.required:
                errors.append(FieldError(code, Reason.required))
            continue
        if not isinstance(value, str):
            errors.append(FieldError(code, Reason.not_a_string))
            continue
        checked = check_value(catalogue, spec, value, today)
        if isinstance(checked, Reason):
            errors.append(FieldError(code, checked))
        else:
            accepted[code] = checked
    return ValidationResult(values=accepted, errors=errors)
