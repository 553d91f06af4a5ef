"""Display masking rules for personal data.

The default rules follow hutool's ``DesensitizedUtil`` so that staff who know the
Java side of the platform see the same shapes. Two deliberate differences, both in
the safe direction: every rule is total (``None``, empty, junk and very short values
never raise), and a value that is no longer than what its rule keeps is masked
completely instead of being returned as it is.

Values are normalised before masking: NFKC (full-width digits and letters become
half-width) and surrounding whitespace stripped; identifiers additionally lose inner
whitespace, hyphens and invisible format characters.

>>> mask("张三", "name")
'张*'
>>> mask("欧阳娜娜", "name")
'欧***'
>>> mask("420106199001011234", "id_number")
'4***************34'
>>> mask("13812345678", "mobile")
'138****5678'
>>> mask("１３８１２３４５６７８", "mobile")
'138****5678'
>>> mask("027-87654321", "fixed_phone")
'027-******21'
>>> mask("湖北省武汉市洪山区珞喻路1037号", "address")
'湖北省武汉市洪山区********'
>>> mask("zhangsan@example.com", "email")
'z*******@example.com'
>>> mask("6222021234567890123", "bank_card")
'6222 **** **** **** 123'
>>> mask("secret", "password")
'******'
>>> mask(None, "name"), mask("", "mobile"), mask("1", "id_number")
('', '', '*')
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from enum import StrEnum

MASK_CHAR = "*"

__all__ = ["KINDS", "MASK_CHAR", "MaskKind", "UnknownMaskKindError", "mask", "normalise"]


class MaskKind(StrEnum):
    """The masking rules a catalogue field may name."""

    NAME = "name"
    ID_NUMBER = "id_number"
    MOBILE = "mobile"
    FIXED_PHONE = "fixed_phone"
    ADDRESS = "address"
    EMAIL = "email"
    BANK_CARD = "bank_card"
    PASSWORD = "password"  # noqa: S105 - the name of a rule, not a secret


KINDS: frozenset[str] = frozenset(kind.value for kind in MaskKind)


class UnknownMaskKindError(ValueError):
    """A caller named a masking kind that does not exist (a configuration error)."""

    code = "masking.unknown_kind"

    def __init__(self, kind: object) -> None:
        # The kind is configuration, never a personal value, so it may be named.
        super().__init__(f"unknown masking kind {str(kind)[:40]!r}; expected one of {sorted(KINDS)}")
        self.kind = kind


def normalise(value: object) -> str:
    """NFKC-normalise and strip; ``None`` becomes the empty string.

    >>> normalise("  Ａｂｃ１２３　")
    'Abc123'
    >>> normalise(None)
    ''
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return unicodedata.normalize("NFKC", text).strip()


def _compact(text: str) -> str:
    """Drop separators an identifier may carry: whitespace, hyphens, invisible format characters."""
    return "".join(
        ch for ch in text if not ch.isspace() and ch != "-" and unicodedata.category(ch) not in ("Cf", "Cc")
    )


def _keep(text: str, front: int, back: int) -> str:
    """Keep ``front`` leading and ``back`` trailing characters and mask the rest.

    When nothing would be hidden the whole value is masked: a rule never returns its
    input unchanged.
    """
    length = len(text)
    if length <= front + back:
        return MASK_CHAR * length
    return text[:front] + MASK_CHAR * (length - front - back) + text[length - back :]


def _name(text: str) -> str:
    # Keep the first character only, as hutool does; compound surnames (欧阳) and
    # transliterated names with a middle dot (买买提·艾力) lose everything after it.
    return _keep(text, 1, 0)


def _id_number(text: str) -> str:
    return _keep(_compact(text), 1, 2)


def _mobile(text: str) -> str:
    return _keep(_compact(text), 3, 4)


def _fixed_phone(text: str) -> str:
    return _keep(text, 4, 2)


def _address(text: str) -> str:
    return _keep(text, len(text) - 8, 0) if len(text) > 8 else MASK_CHAR * len(text)


def _email(text: str) -> str:
    text = _compact(text) if "@" in text else text
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        return MASK_CHAR * len(text)
    if len(local) == 1:
        return MASK_CHAR + at + domain
    return local[0] + MASK_CHAR * (len(local) - 1) + at + domain


def _bank_card(text: str) -> str:
    digits = _compact(text)
    length = len(digits)
    end_length = length % 4 or 4
    if length <= 4 + end_length:
        return MASK_CHAR * length
    middle = length - 4 - end_length
    groups = [MASK_CHAR * min(4, middle - start) for start in range(0, middle, 4)]
    return " ".join([digits[:4], *groups, digits[length - end_length :]])


def _password(text: str) -> str:
    return MASK_CHAR * len(text)


_RULES: dict[str, Callable[[str], str]] = {
    MaskKind.NAME: _name,
    MaskKind.ID_NUMBER: _id_number,
    MaskKind.MOBILE: _mobile,
    MaskKind.FIXED_PHONE: _fixed_phone,
    MaskKind.ADDRESS: _address,
    MaskKind.EMAIL: _email,
    MaskKind.BANK_CARD: _bank_card,
    MaskKind.PASSWORD: _password,
}


def mask(value: object, kind: str) -> str:
    """Mask ``value`` for display according to ``kind`` (one of :data:`KINDS`).

    Total on values: ``None`` and blank values give ``""``; anything else gives a
    masked string. An unknown ``kind`` is a configuration error and raises
    :class:`UnknownMaskKindError` (check catalogue kinds against :data:`KINDS` at load).
    """
    rule = _RULES.get(kind) if isinstance(kind, str) else None
    if rule is None:
        raise UnknownMaskKindError(kind)
    text = normalise(value)
    if not text:
        return ""
    return rule(text)
