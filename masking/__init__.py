"""Masking of personal data for display and logs, and keyed pseudonyms.

Pure functions only: no I/O, no clock, no settings (keys are passed in).
"""

from masking.keyed import normalise_identifier, pseudonym
from masking.rules import KINDS, MASK_CHAR, MaskKind, UnknownMaskKindError, mask

__all__ = [
    "KINDS",
    "MASK_CHAR",
    "MaskKind",
    "UnknownMaskKindError",
    "mask",
    "normalise_identifier",
    "pseudonym",
]
