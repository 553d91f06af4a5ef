"""Catalogue endpoints: what the bundle is made of and the plan's figures."""

from __future__ import annotations

from fastapi import APIRouter

from prefill.catalog.views import PlanReport, ThemeView
from prefill.deps import CatalogueDep

router = APIRouter(prefix="/v1/catalog", tags=["catalog"])


@router.get("/themes/{theme}", summary="A theme's catalogue: matters, materials, forms, fields, code sets")
def get_theme(theme: str, catalogues: CatalogueDep) -> ThemeView:
    return catalogues.view(theme)


@router.get("/themes/{theme}/report", summary="The plan's before/after figures, computed from the catalogue")
def get_report(theme: str, catalogues: CatalogueDep) -> PlanReport:
    return catalogues.report(theme)
