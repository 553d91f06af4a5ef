"""Which paper material a verified certificate can waive (packaged data: ``data/waivers.yaml``).

Read by the mapping layer: a material listed here may be waived only on the strength of a certificate
of the given type that :func:`certificates.verify.verify_certificate` found ``verified``.

>>> waivers = load_waivers()
>>> waivers.materials_for("id_card")
('resident_id_card',)
>>> waivers.certificate_types_for("household_register")
('household_register',)
>>> waivers.certificate_types_for("labour_contract")
()
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from certificates.catalog import load_certificate_types
from certificates.errors import CatalogueError


@dataclass(frozen=True, slots=True)
class Waiver:
    certificate_type: str
    material: str


@dataclass(frozen=True)
class Waivers:
    entries: tuple[Waiver, ...]

    def materials_for(self, certificate_type: str) -> tuple[str, ...]:
        """Material codes a verified certificate of ``certificate_type`` can waive."""
        return tuple(w.material for w in self.entries if w.certificate_type == certificate_type)

    def certificate_types_for(self, material: str) -> tuple[str, ...]:
        """Certificate type keys that can waive ``material`` (empty: only paper or shared records)."""
        return tuple(w.certificate_type for w in self.entries if w.material == material)

    def as_mapping(self) -> dict[str, tuple[str, ...]]:
        """Certificate type → material codes."""
        return {w.certificate_type: self.materials_for(w.certificate_type) for w in self.entries}


@cache
def load_waivers() -> Waivers:
    """Load and check the packaged waiver data against the certificate types (cached)."""
    text = resources.files("certificates").joinpath("data", "waivers.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    items = data.get("waivers") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise CatalogueError("waivers.yaml has no waivers list")
    types = load_certificate_types()
    entries: list[Waiver] = []
    for item in items:
        if not isinstance(item, dict):
            raise CatalogueError("waiver entry is not a mapping")
        waiver = Waiver(str(item.get("certificate_type", "")), str(item.get("material", "")))
        if waiver.certificate_type not in types or not waiver.material:
            raise CatalogueError(f"waiver for unknown certificate type {waiver.certificate_type!r}")
        entries.append(waiver)
    return Waivers(tuple(entries))
