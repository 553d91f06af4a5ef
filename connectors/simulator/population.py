"""Deterministic synthetic citizens beyond the persona table (for load and volume tests).

Generated ID numbers use Wuhan district codes and order codes 500–999 (personas use lower ones), so
they never collide with a persona; every source has a record for them.

>>> from stdnum.cn import ric
>>> n = generated_id_number(7)
>>> ric.is_valid(n), generated_citizen(n) is not None, generated_citizen(n).id_number == n
(True, True, True)
>>> generated_citizen("420102198803150137") is None  # a persona, not generated
True
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from types import MappingProxyType
from typing import Final

from stdnum.cn import ric

from connectors.simulator.personas import Persona, _records

_REGIONS: Final = ("420102", "420103", "420104", "420105", "420106", "420107", "420111", "420112")
_EPOCH: Final = date(1984, 1, 1)  # district codes are valid (stdnum) from 1983
_DAYS: Final = 7_000  # birth dates 1984-01-01 … 2003-02
_SURNAMES: Final = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN: Final = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"


def generated_id_number(index: int) -> str:
    """The ``index``-th generated citizen's ID number (0 ≤ index < 28 000 000)."""
    region = _REGIONS[index % len(_REGIONS)]
    rest = index // len(_REGIONS)
    birth = _EPOCH + timedelta(days=rest % _DAYS)
    order = 500 + (rest // _DAYS) % 500
    body = f"{region}{birth:%Y%m%d}{order:03d}"
    return body + ric.calc_check_digit(body + "0")


def generated_citizen(id_number: str) -> Persona | None:
    """The generated citizen with this ID number, or ``None`` if it is not a generated one."""
    number = id_number.strip().upper()
    if len(number) != 18 or number[:6] not in _REGIONS or not number[14:17].isdigit():
        return None
    if int(number[14:17]) < 500 or not ric.is_valid(number):
        return None
    birth = ric.get_birth_date(number)
    if not (_EPOCH <= birth < _EPOCH + timedelta(days=_DAYS)):
        return None
    digest = hashlib.sha256(number.encode()).digest()
    full_name = (
        _SURNAMES[digest[0] % len(_SURNAMES)]
        + _GIVEN[digest[1] % len(_GIVEN)]
        + _GIVEN[digest[2] % len(_GIVEN)]
    )
    gender = "1" if int(number[16]) % 2 else "2"
    mobile = "139" + str(int.from_bytes(digest[3:7], "big") % 10**8).zfill(8)
    return Persona(
        name="generated",
        exercises="generated synthetic citizen; every source answers",
        id_number=number,
        full_name=full_name,
        gender=gender,
        birth_date=birth.isoformat(),
        mobile=mobile,
        records=_records(
            id_number=number,
            full_name=full_name,
            gender=gender,
            birth_date=birth.isoformat(),
            mobile=mobile,
            region=number[:6],
            city="420100",
            address=f"湖北省武汉市测试路{digest[7] % 200 + 1}号",
            personal_number="42019" + str(int.from_bytes(digest[8:14], "big") % 10**11).zfill(11),
        ),
        certificates=MappingProxyType({"id_card": "valid", "household_register": "valid"}),
    )
