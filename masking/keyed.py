"""Keyed pseudonyms: HMAC-SHA256 over a normalised identifier.

The pseudonym lets logs, caches and the audit log find every record about a person
without holding the identifier itself. Without the key it cannot be reversed by
enumerating the (small) space of ID numbers, which a plain hash could.

>>> key = bytes(32)
>>> pseudonym("42010619900101123x", key) == pseudonym(" ４２０１０６１９９００１０１１２３Ｘ ", key)
True
>>> len(pseudonym("42010619900101123X", key))
64
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

__all__ = ["normalise_identifier", "pseudonym"]

MIN_KEY_BYTES = 16


def normalise_identifier(identifier: str) -> str:
    """Full-width to half-width, drop whitespace and invisible characters, upper-case.

    >>> normalise_identifier(" 4201 0619-9001 01123ｘ ")
    '42010619900101123X'
    """
    text = unicodedata.normalize("NFKC", identifier)
    text = "".join(
        ch for ch in text if not ch.isspace() and ch != "-" and unicodedata.category(ch) not in ("Cf", "Cc")
    )
    return text.upper()


def pseudonym(identifier: str, key: bytes) -> str:
    """Hex HMAC-SHA256 of the normalised identifier under ``key``.

    Raises ``ValueError`` (naming no value) for an empty identifier or a key shorter
    than 16 bytes.
    """
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"pseudonym key must be at least {MIN_KEY_BYTES} bytes")
    normalised = normalise_identifier(identifier)
    if not normalised:
        raise ValueError("identifier is empty")
    return hmac.new(key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()
