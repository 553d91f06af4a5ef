"""Electronic certificate identifiers (电子证照标识) after GB/T 36904.

An identifier has six dot-separated parts::

    1.2.156.3005.2 . <type code> . <issuer code> . <serial> . <version> . <check>

- the root ``1.2.156.3005.2`` (the national e-certificate OID arc);
- the certificate *type code* (证照类型代码): the unified social credit code of the department that
  defines the type (18 characters) followed by a three-digit sequence number;
- the *issuer code* (证照颁发机构代码): the unified social credit code of the issuing body;
- the *serial* (流水号), unique per issuer and type, letters and digits;
- the *version* (版本号), three digits;
- the *check character* (校验位): ISO 7064 MOD 37,36 over type code, issuer code, serial and version
  concatenated without separators.

>>> ident = parse("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S")
>>> ident.type_code, ident.issuer_code, ident.serial, ident.version
('11100000000013338W011', '11430000006122244L', '20230000403', '002')
>>> str(ident)
'1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S'
>>> build("11100000000013338W087", "11370800MB28559184", "37080001202411010001", "001")
'1.2.156.3005.2.11100000000013338W087.11370800MB28559184.37080001202411010001.001.3'
>>> calc_check_character("11100000000013338W01111430000006122244L20230000403001")
'U'
>>> is_valid("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S")
True
>>> is_valid("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.T")
False
>>> validate("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.T")
Traceback (most recent call last):
    ...
certificates.errors.MalformedIdentifierError: check character is T, expected S
>>> validate(" 1.2.156.3005.2.11100000000013338w009.11330105002500287c.2025052201.002.0 ")
'1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from stdnum.iso7064 import mod_37_36

from certificates.errors import MalformedIdentifierError

ROOT: Final = "1.2.156.3005.2"
"""Root code of government e-certificate identifiers (电子证照根代码)."""

# Unified social credit code alphabet (GB 32100): digits and capitals without I, O, S, V, Z.
_USCC: Final = r"[0-9A-HJ-NPQRTUWXY]{18}"
_TYPE_CODE_RE: Final = re.compile(rf"{_USCC}[0-9]{{3}}")
_ISSUER_CODE_RE: Final = re.compile(_USCC)
_SERIAL_RE: Final = re.compile(r"[0-9A-Z]{1,64}")
_VERSION_RE: Final = re.compile(r"[0-9]{3}")
_CHECK_RE: Final = re.compile(r"[0-9A-Z]")
_MAX_LENGTH: Final = 160


@dataclass(frozen=True, slots=True)
class CertificateIdentifier:
    """A parsed, validated identifier; ``str()`` gives the compact form."""

    type_code: str
    issuer_code: str
    serial: str
    version: str
    check: str

    def __str__(self) -> str:
        return ".".join((ROOT, self.type_code, self.issuer_code, self.serial, self.version, self.check))


def compact(identifier: str) -> str:
    """Strip surrounding blanks and upper-case; no validation.

    >>> compact(" 1.2.156.3005.2.abc ")
    '1.2.156.3005.2.ABC'
    """
    return identifier.strip().upper()


def calc_check_character(payload: str) -> str:
    """ISO 7064 MOD 37,36 check character over ``payload`` (type code + issuer code + serial + version).

    >>> calc_check_character("11100000000013338W01111430000006122244L20230000403002")
    'S'
    """
    return mod_37_36.calc_check_digit(payload)


def _check_part(name: str, value: str, pattern: re.Pattern[str]) -> None:
    if not pattern.fullmatch(value):
        raise MalformedIdentifierError(f"{name} has the wrong shape")


def parse(identifier: object) -> CertificateIdentifier:
    """Parse and validate an identifier; raise :class:`MalformedIdentifierError` saying why.

    >>> parse("1.2.156.3005.2.11100000000013338W011")
    Traceback (most recent call last):
        ...
    certificates.errors.MalformedIdentifierError: expected 5 parts after the root, found 1
    >>> parse("2.16.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S")
    Traceback (most recent call last):
        ...
    certificates.errors.MalformedIdentifierError: does not start with the root 1.2.156.3005.2
    >>> parse(None)
    Traceback (most recent call last):
        ...
    certificates.errors.MalformedIdentifierError: not a string
    """
    if not isinstance(identifier, str):
        raise MalformedIdentifierError("not a string")
    value = compact(identifier)
    if len(value) > _MAX_LENGTH:
        raise MalformedIdentifierError("too long")
    if not value.startswith(ROOT + "."):
        raise MalformedIdentifierError(f"does not start with the root {ROOT}")
    parts = value[len(ROOT) + 1 :].split(".")
    if len(parts) != 5:
        raise MalformedIdentifierError(f"expected 5 parts after the root, found {len(parts)}")
    type_code, issuer_code, serial, version, check = parts
    _check_part("type code", type_code, _TYPE_CODE_RE)
    _check_part("issuer code", issuer_code, _ISSUER_CODE_RE)
    _check_part("serial", serial, _SERIAL_RE)
    _check_part("version", version, _VERSION_RE)
    _check_part("check character", check, _CHECK_RE)
    expected = calc_check_character(type_code + issuer_code + serial + version)
    if check != expected:
        raise MalformedIdentifierError(f"check character is {check}, expected {expected}")
    return CertificateIdentifier(type_code, issuer_code, serial, version, check)


def validate(identifier: object) -> str:
    """Return the compact identifier if valid, else raise :class:`MalformedIdentifierError`."""
    return str(parse(identifier))


def is_valid(identifier: object) -> bool:
    """Whether ``identifier`` is a well-formed identifier with a correct check character."""
    try:
        parse(identifier)
    except MalformedIdentifierError:
        return False
    return True


def build(type_code: str, issuer_code: str, serial: str, version: str = "001") -> str:
    """Build an identifier from its parts, computing the check character.

    >>> build("11100000000013338W009", "11330105002500287C", "2025052201", "002")
    '1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0'
    >>> build("bad", "11330105002500287C", "1", "001")
    Traceback (most recent call last):
        ...
    certificates.errors.MalformedIdentifierError: type code has the wrong shape
    """
    type_code, issuer_code, serial = type_code.upper(), issuer_code.upper(), serial.upper()
    _check_part("type code", type_code, _TYPE_CODE_RE)
    _check_part("issuer code", issuer_code, _ISSUER_CODE_RE)
    _check_part("serial", serial, _SERIAL_RE)
    _check_part("version", version, _VERSION_RE)
    check = calc_check_character(type_code + issuer_code + serial + version)
    return str(CertificateIdentifier(type_code, issuer_code, serial, version, check))
