"""Shared data of the applications tests: a complete, valid submission for every matter."""

from __future__ import annotations

from prefill.catalog.loader import Catalogue, load_catalogue

THEME = "flexible-employment"
ID_NUMBER = "420102198803150137"  # the simulator's `complete` persona; valid GB 11643 check digit

VALID_VALUES: dict[str, str] = {
    "name": "王测完",
    "gender": "1",
    "ethnicity": "01",
    "nationality": "CHN",
    "birth_date": "1988-03-15",
    "id_type": "111",
    "id_number": ID_NUMBER,
    "mobile": "13800000001",
    "email": "wang@example.cn",
    "education": "21",
    "political_status": "13",
    "marital_status": "20",
    "hukou_nature": "2",
    "hukou_region_code": "420102",
    "residence_address": "湖北省武汉市江岸区测试路1号",
    "mailing_address": "湖北省武汉市江岸区测试路1号",
    "postal_code": "430014",
    "social_security_number": ID_NUMBER,
    "insured_city": "420100",
    "insured_employer": "灵活就业人员",
    "pension_insured_date": "2026-01-01",
    "medical_insured_date": "2026-01-01",
    "employment_form": "3",
    "employment_start_date": "2025-12-01",
    "hardship_category": "0",
    "contribution_base": "4000.00",
    "card_delivery": "1",
    "dossier_holder": "武汉市人才服务中心",
    "dossier_region_code": "420100",
}

# What a prefill of the `complete` persona verifies and locks.
LOCKED_FIELDS = ("name", "gender", "birth_date", "id_type", "id_number", "mobile")


def catalogue() -> Catalogue:
    return load_catalogue(THEME)


def all_matters() -> list[str]:
    return list(catalogue().matters)


def values_for(matters: list[str]) -> dict[str, str]:
    """The valid values of exactly the fields ``matters`` need."""
    needed = {f.code for f in catalogue().fields_for(matters)}
    return {k: v for k, v in VALID_VALUES.items() if k in needed}
