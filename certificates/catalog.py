"""Certificate types of the e-certificate library (packaged data: ``data/certificate_types.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from certificates import identifier as identifiers
from certificates.errors import CatalogueError


@dataclass(frozen=True, slots=True)
class CertificateType:
    key: str
    name: str
    type_code: str
    defining_department: str
    issuing_department: str
    department: str


@dataclass(frozen=True)
class CertificateTypes:
    """Certificate types by key, with lookup by GB/T 36904 type code."""

    by_key: dict[str, CertificateType]

    def __getitem__(self, key: str) -> CertificateType:
        return self.by_key[key]

    def __contains__(self, key: object) -> bool:
        return key in self.by_key

    def by_type_code(self, type_code: str) -> CertificateType | None:
        return next((t for t in self.by_key.values() if t.type_code == type_code), None)


def _read(name: str) -> object:
    return yaml.safe_load(resources.files("certificates").joinpath("data", name).read_text("utf-8"))


@cache
def load_certificate_types() -> CertificateTypes:
    """Load and check the packaged certificate types (cached: the data is immutable)."""
    data = _read("certificate_types.yaml")
    entries = data.get("certificate_types") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise CatalogueError("certificate_types.yaml has no certificate_types list")
    types: dict[str, CertificateType] = {}
    for entry in entries:
        try:
            item = CertificateType(**{k: str(v) for k, v in entry.items()})
        except TypeError as exc:
            raise CatalogueError(f"bad certificate type entry: {exc}") from None
        # Reuse the identifier rules: a type code must be usable in an identifier.
        try:
            identifiers.build(item.type_code, "11100000000000001M", "1")
        except identifiers.MalformedIdentifierError:
            raise CatalogueError(f"type code of {item.key} is not a GB/T 36904 type code") from None
        if item.key in types:
            raise CatalogueError(f"duplicate certificate type {item.key}")
        types[item.key] = item
    return CertificateTypes(types)
