"""The loaded catalogues of every theme, and the views the API serves from them."""

from __future__ import annotations

from pathlib import Path

from prefill.catalog.loader import Catalogue, available_themes, load_catalogue, packaged_catalogue_dir
from prefill.catalog.report import plan_report
from prefill.catalog.views import PlanReport, ThemeView
from prefill.errors import UnknownThemeError


class CatalogueStore:
    """Every theme's catalogue, loaded and checked once at start-up."""

    def __init__(self, catalogues: dict[str, Catalogue]) -> None:
        self._catalogues = catalogues

    @classmethod
    def load(cls, root: Path | None = None) -> CatalogueStore:
        base = root or packaged_catalogue_dir()
        return cls({theme: load_catalogue(theme, base) for theme in available_themes(base)})

    @property
    def themes(self) -> list[str]:
        return sorted(self._catalogues)

    def get(self, theme: str) -> Catalogue:
        try:
            return self._catalogues[theme]
        except KeyError:
            raise UnknownThemeError(
                f"no theme named {theme!r}; known themes: {', '.join(self.themes)}"
            ) from None

    def view(self, theme: str) -> ThemeView:
        return ThemeView.from_catalogue(self.get(theme))

    def report(self, theme: str) -> PlanReport:
        return PlanReport.model_validate(plan_report(self.get(theme)))
