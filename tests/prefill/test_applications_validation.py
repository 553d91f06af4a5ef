"""Validation of submitted values against the catalogue: table-driven, pure."""

from __future__ import annotations

from datetime import date

import pytest

from prefill.applications.validation import Reason, validate_values

from .applications_data import ID_NUMBER, VALID_VALUES, all_matters, catalogue, values_for

TODAY = date(2026, 11, 25)
CATALOGUE = catalogue()
ALL = all_matters()


def errors_of(values: dict[str, object], matters: list[str] | None = None) -> dict[str, Reason]:
    result = validate_values(CATALOGUE, matters or ALL, values, today=TODAY)
    return {e.field: e.reason for e in result.errors}


def test_a_complete_submission_is_accepted_as_is():
    result = validate_values(CATALOGUE, ALL, VALID_VALUES, today=TODAY)
    assert result.ok, result.errors
    assert result.values == VALID_VALUES


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        # code sets: closed sets exact
        ("gender", "3", Reason.invalid_code),
        ("gender", "男", Reason.invalid_code),
        ("ethnicity", "1", Reason.invalid_code),  # two digits
        ("ethnicity", "57", Reason.invalid_code),
        ("marital_status", "11", Reason.invalid_code),
        ("political_status", "14", Reason.invalid_code),
        ("hukou_nature", "10", Reason.invalid_code),  # an 人社 code where the 公安 set is canonical
        ("nationality", "chn", Reason.invalid_code),
        ("id_type", "999", Reason.invalid_code),
        ("card_delivery", "3", Reason.invalid_code),
        # open sets by pattern
        ("hukou_region_code", "42010", Reason.invalid_code),
        ("hukou_region_code", "920102", Reason.invalid_code),
        ("insured_city", "4201OO", Reason.invalid_code),
        # types
        ("birth_date", "1988-02-30", Reason.invalid_date),
        ("birth_date", "19880315", Reason.invalid_date),
        ("birth_date", "1988/03/15", Reason.invalid_date),
        ("employment_start_date", "1899-12-31", Reason.invalid_date),
        ("mobile", "12800000001", Reason.invalid_mobile),
        ("mobile", "1380000000", Reason.invalid_mobile),
        ("mobile", "+8613800000001", Reason.invalid_mobile),
        ("id_number", "420102198803150138", Reason.invalid_id_number),  # check digit
        ("id_number", "420102198802300137", Reason.invalid_id_number),  # 30 February
        ("id_number", "42010219880315013", Reason.invalid_id_number),
        ("email", "wang@", Reason.invalid_email),
        ("email", "wang example.cn", Reason.invalid_email),
        ("postal_code", "43001", Reason.invalid_postal_code),
        ("postal_code", "43001a", Reason.invalid_postal_code),
        ("contribution_base", "4000.001", Reason.invalid_money),
        ("contribution_base", "-4000", Reason.invalid_money),
        ("contribution_base", "0", Reason.invalid_money),
        ("contribution_base", "4e3", Reason.invalid_money),
        # lengths and junk
        ("name", "王" * 51, Reason.too_long),
        ("mailing_address", "址" * 201, Reason.too_long),
        ("residence_address", "x" * 201, Reason.too_long),
        ("name", "王\x00测", Reason.invalid_characters),
        ("name", "王\n测", Reason.invalid_characters),
        ("name", 42, Reason.not_a_string),
        ("gender", ["1"], Reason.not_a_string),
    ],
)
def test_a_bad_value_is_named_with_its_reason(field, value, reason):
    assert errors_of({**VALID_VALUES, field: value}) == {field: reason}


def test_id_number_with_a_future_birth_date_is_refused():
    assert errors_of({**VALID_VALUES, "id_number": "420102203001010013"}) == {
        "id_number": Reason.invalid_id_number
    }


def test_id_number_is_normalised_to_an_upper_case_check_digit():
    result = validate_values(CATALOGUE, ALL, {**VALID_VALUES, "id_number": "42060219850611046x"}, today=TODAY)
    assert result.ok
    assert result.values["id_number"] == "42060219850611046X"


@pytest.mark.parametrize("field", [f.code for f in CATALOGUE.fields.values() if f.required])
@pytest.mark.parametrize("missing", ["absent", None, ""])
def test_every_required_field_is_required(field, missing):
    values: dict[str, object] = dict(VALID_VALUES)
    if missing == "absent":
        del values[field]
    else:
        values[field] = missing
    assert errors_of(values) == {field: Reason.required}


@pytest.mark.parametrize("field", [f.code for f in CATALOGUE.fields.values() if not f.required])
def test_optional_fields_may_be_left_out(field):
    values = {k: v for k, v in VALID_VALUES.items() if k != field}
    result = validate_values(CATALOGUE, ALL, values, today=TODAY)
    assert result.ok
    assert field not in result.values


def test_unknown_codes_and_unneeded_fields_are_refused():
    matters = ["medical_enrolment"]
    values = {**values_for(matters), "favourite_colour": "blue", "dossier_holder": "某单位"}
    assert errors_of(values, matters) == {
        "favourite_colour": Reason.unknown_field,
        "dossier_holder": Reason.not_needed,
    }


def test_only_the_fields_the_matters_need_are_required():
    matters = ["medical_enrolment"]
    result = validate_values(CATALOGUE, matters, values_for(matters), today=TODAY)
    assert result.ok
    assert set(result.values) == {
        "name", "gender", "birth_date", "id_type", "id_number", "mobile", "hukou_nature",
        "medical_insured_date",
    }  # fmt: skip


def test_every_error_is_reported_at_once_and_never_carries_the_value():
    values = {**VALID_VALUES, "gender": "7", "mobile": "123", "birth_date": "yesterday"}
    del values["name"]
    result = validate_values(CATALOGUE, ALL, values, today=TODAY)
    assert {(e.field, e.reason) for e in result.errors} == {
        ("gender", Reason.invalid_code),
        ("mobile", Reason.invalid_mobile),
        ("birth_date", Reason.invalid_date),
        ("name", Reason.required),
    }
    assert "123" not in repr(result.errors) and "yesterday" not in repr(result.errors)
    assert ID_NUMBER not in repr(result.errors)
