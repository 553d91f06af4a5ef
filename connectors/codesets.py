"""Code sets and translation tables between departments' code sets and canonical codes (data).

>>> cs = load_code_sets()
>>> cs.translate("psb_nationality", "156")
'CHN'
>>> cs.translate("psb_to_hrss_hukou_nature", "2")
'20'
>>> cs.translate("psb_nationality", "999") is None
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType

import yaml

from connectors.errors import ConfigError


@dataclass(frozen=True)
class CodeSets:
    labels: Mapping[str, Mapping[str, str]]
    """code set name → code → label (e.g. ``psb_hukou_nature``)."""
    translations: Mapping[str, Mapping[str, str]]
    """translation name → source code → target code."""

    def translate(self, table: str, value: str) -> str | None:
        """The translated code, or ``None`` if the value has no entry (never guessed)."""
        try:
            mapping = self.translations[table]
        except KeyError:
            raise ConfigError(f"unknown code-set translation {table!r}") from None
        return mapping.get(value)


def load_code_sets(path: str | Path | None = None) -> CodeSets:
    p = (
        Path(path)
        if path is not None
        else Path(str(resources.files("connectors") / "data" / "code_sets.yaml"))
    )
    with p.open(encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)

    def freeze(d: Mapping[str, Mapping[object, object]]) -> Mapping[str, Mapping[str, str]]:
        return MappingProxyType(
            {k: MappingProxyType({str(a): str(b) for a, b in v.items()}) for k, v in d.items()}
        )

    return CodeSets(labels=freeze(raw.get("code_sets", {})), translations=freeze(raw.get("translations", {})))
