from __future__ import annotations

from datetime import date

import pytest

from connectors.errors import InvalidIdNumber
from connectors.idnumber import validate_id_number
from connectors.simulator.personas import PERSONAS
from connectors.simulator.population import generated_id_number


@pytest.mark.parametrize("persona", list(PERSONAS.values()), ids=list(PERSONAS))
def test_persona_id_numbers_are_valid_hubei_numbers(persona):
    assert validate_id_number(persona.id_number) == persona.id_number
    assert persona.id_number.startswith("42")
    assert (
        persona.birth_date
        == f"{persona.id_number[6:10]}-{persona.id_number[10:12]}-{persona.id_number[12:14]}"
    )
    # GB 11643: odd order code for men (GB/T 2261.1 "1"), even for women ("2")
    assert persona.gender == ("1" if int(persona.id_number[16]) % 2 else "2")


def test_generated_population_is_valid_and_distinct():
    numbers = [generated_id_number(i) for i in range(0, 200_000, 997)]
    assert len(set(numbers)) == len(numbers)
    assert all(validate_id_number(n) == n for n in numbers)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("420102198803150138", "check digit does not match"),
        ("420102198802300137", "birth date is not a valid date"),
        ("42010219880315013", "must have 18 characters"),
        ("4201021988031501X7", "must be 17 digits followed by a digit or X"),
        ("", "must have 18 characters"),
        (None, "must be a string"),
        (420102198803150137, "must be a string"),
    ],
)
def test_invalid_numbers_answer_a_clear_reason_without_the_number(value, reason):
    with pytest.raises(InvalidIdNumber) as info:
        validate_id_number(value)
    assert info.value.reason == reason
    assert info.value.code == "invalid_id_number"
    if isinstance(value, str) and value:
        assert value not in str(info.value)


def test_unknown_region_is_rejected():
    body = "990102198803150" + "13"
    from stdnum.cn import ric

    number = body + ric.calc_check_digit(body + "0")
    with pytest.raises(InvalidIdNumber, match="region code is unknown"):
        validate_id_number(number)


def test_future_birth_date_is_rejected_when_today_is_given():
    with pytest.raises(InvalidIdNumber, match="future"):
        validate_id_number("420102198803150137", today=date(1980, 1, 1))


def test_lower_case_x_and_spaces_are_normalised():
    assert validate_id_number(" 42060219850611046x") == "42060219850611046X"
