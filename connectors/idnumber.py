"""Validation of Chinese resident ID numbers (居民身份证号码, GB 11643) with python-stdnum.

The error says what is wrong but never repeats the number.

>>> validate_id_number("420102198803150137")
'420102198803150137'
>>> validate_id_number(" 42060219850611046x ")
'42060219850611046X'
>>> validate_id_number("420102198803150138")
Traceback (most recent call last):
...
connectors.errors.InvalidIdNumber: invalid ID number: check digit does not match
>>> validate_id_number("420102198802300137")
Traceback (most recent call last):
...
connectors.errors.InvalidIdNumber: invalid ID number: birth date is not a valid date
"""

from __future__ import annotations

from datetime import date

from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError

from connectors.errors import InvalidIdNumber


def validate_id_number(value: object, *, today: date | None = None) -> str:
    """Return the compact ID number (upper-case check digit) or raise ``InvalidIdNumber``.

    Checks length, digits, birth date (a real date, not in the future), region code and check digit.
    """
    if not isinstance(value, str):
        raise InvalidIdNumber("must be a string")
    number = ric.compact(value)
    if len(number) != 18:
        raise InvalidIdNumber("must have 18 characters")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise InvalidIdNumber("must be 17 digits followed by a digit or X")
    try:
        birth = ric.get_birth_date(number)
    except InvalidComponent:
        raise InvalidIdNumber("birth date is not a valid date") from None
    if today is not None and birth > today:
        raise InvalidIdNumber("birth date is in the future")
    if ric.calc_check_digit(number) != number[-1]:
        raise InvalidIdNumber("check digit does not match")
    try:
        return str(ric.validate(number))
    except InvalidChecksum:  # pragma: no cover - checked above
        raise InvalidIdNumber("check digit does not match") from None
    except InvalidComponent:
        raise InvalidIdNumber("region code is unknown") from None
    except (InvalidFormat, InvalidLength, ValidationError):
        raise InvalidIdNumber("malformed") from None
