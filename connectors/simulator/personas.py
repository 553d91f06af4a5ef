"""Documented synthetic test personas of simulated mode (docs/contracts.md, "Personas").

Plain data: each persona is a synthetic citizen (all values invented; the ID numbers carry real Hubei
region codes and correct check digits so that ``stdnum.cn.ric`` accepts them) plus how each simulated
source and the e-certificate library behave for that person.

Values are held in *canonical* form (docs/contracts.md, "Value conventions"); each simulated department
renders them in its own format. A source that holds no record for a persona answers ``not found``.

>>> persona_by_name("complete").id_number
'420102198803150137'
>>> persona_by_id_number("420102198803150137").name
'complete'
>>> persona_by_name("source-down").behaviour("hrss_pension").status
503
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal

CertificateState = Literal["valid", "revoked", "expired", "bad_signature"]
"""State of a persona's certificate in the simulated e-certificate library."""

SOURCE_IDS: Final[tuple[str, ...]] = (
    "psb_identity",
    "psb_household",
    "hrss_employment",
    "hrss_pension",
    "hrss_sscard",
    "medical_insurance",
    "tax_contribution",
    "talent_dossier",
)

SOURCE_FIELDS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "psb_identity": ("name", "gender", "ethnicity", "birth_date", "nationality"),
        "psb_household": (
            "hukou_nature",
            "hukou_region_code",
            "hukou_address",
            "hukou_registered_on",
            "marital_status",
            "education",
        ),
        "hrss_employment": (
            "mobile",
            "employment_status",
            "employment_registered_on",
            "hardship_category",
            "employment_certificate_no",
        ),
        "hrss_pension": (
            "social_security_number",
            "personal_number",
            "insured_city",
            "insured_employer",
            "pension_insured_date",
        ),
        "hrss_sscard": ("sscard_status", "sscard_number"),
        "medical_insurance": ("medical_insured_date", "medical_insured_city"),
        "tax_contribution": ("taxpayer_status", "contribution_base"),
        "talent_dossier": ("dossier_holder", "dossier_region_code"),
    }
)
"""Canonical field codes each source provides (docs/contracts.md, "Sources")."""

UNPUBLISHED_FIELDS: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType(
    {"psb_household": MappingProxyType({"residence_address": "hukou_address"})}
)
"""Data a department holds and answers when asked, but has not published in ``sources.yaml``: what a
department can add through the shared-field registry (docs/registry.md) without a code change.
source → unpublished canonical code → the published field its synthetic value is taken from (every
persona lives at its registered household address: 常住地址 = 户籍地址)."""


def _unpublished(source_id: str, record: Mapping[str, str]) -> dict[str, str]:
    derived = UNPUBLISHED_FIELDS.get(source_id, {})
    return {code: record[origin] for code, origin in derived.items() if origin in record}


@dataclass(frozen=True)
class SourceBehaviour:
    """How one simulated source answers for one persona.

    ``latency_s`` delays the answer; ``status`` forces an HTTP status (e.g. 503) instead of data.
    Whether a record exists is not a behaviour: it is whether ``Persona.records`` has the source.
    """

    latency_s: float = 0.0
    status: int | None = None


NORMAL: Final = SourceBehaviour()


@dataclass(frozen=True)
class Persona:
    """A documented synthetic citizen and what it exercises."""

    name: str
    exercises: str
    id_number: str
    full_name: str
    gender: str  # GB/T 2261.1
    birth_date: str  # ISO YYYY-MM-DD
    mobile: str
    records: Mapping[str, Mapping[str, str]]
    """source id → canonical field code → value; a missing source answers not found."""
    behaviours: Mapping[str, SourceBehaviour] = field(default_factory=dict)
    certificates: Mapping[str, CertificateState] = field(default_factory=dict)
    """certificate type key (``id_card``, ``household_register``) → state; missing: no certificate."""

    def behaviour(self, source_id: str) -> SourceBehaviour:
        return self.behaviours.get(source_id, NORMAL)

    def record(self, source_id: str) -> Mapping[str, str] | None:
        return self.records.get(source_id)

    def holdings(self, source_id: str) -> Mapping[str, str] | None:
        """All the source holds for the person: its published record plus department-own data that
        is not (yet) in the shared catalogue (``UNPUBLISHED_FIELDS``); None when it has no record."""
        record = self.records.get(source_id)
        if record is None:
            return None
        return {**record, **_unpublished(source_id, record)}

    def as_dict(self) -> dict[str, object]:
        """The citizen record as plain JSON-able data (for fixtures and the CLI)."""
        return {
            "persona": self.name,
            "exercises": self.exercises,
            "id_number": self.id_number,
            "name": self.full_name,
            "gender": self.gender,
            "birth_date": self.birth_date,
            "mobile": self.mobile,
            "records": {k: dict(v) for k, v in self.records.items()},
            "certificates": dict(self.certificates),
        }


def _records(
    *,
    id_number: str,
    full_name: str,
    gender: str,
    birth_date: str,
    mobile: str,
    region: str,
    city: str,
    address: str,
    ethnicity: str = "01",
    marital_status: str = "20",
    education: str = "21",
    hukou_nature: str = "1",
    hukou_registered_on: str = "2006-09-01",
    personal_number: str,
    employer: str = "灵活就业人员",
    pension_date: str = "2021-07-01",
    medical_date: str = "2021-07-01",
    employment_status: str = "flexible_employed",
    employment_registered_on: str = "2021-06-15",
    hardship_category: str = "0",
    contribution_base: str = "4000.00",
    dossier_holder: str = "湖北省人才服务中心",
    omit: tuple[str, ...] = (),
) -> Mapping[str, Mapping[str, str]]:
    """Build one persona's per-source canonical records; ``omit`` lists sources that hold none."""
    records: dict[str, Mapping[str, str]] = {
        "psb_identity": {
            "name": full_name,
            "gender": gender,
            "ethnicity": ethnicity,
            "birth_date": birth_date,
            "nationality": "CHN",
        },
        "psb_household": {
            "hukou_nature": hukou_nature,
            "hukou_region_code": region,
            "hukou_address": address,
            "hukou_registered_on": hukou_registered_on,
            "marital_status": marital_status,
            "education": education,
        },
        "hrss_employment": {
            "mobile": mobile,
            "employment_status": employment_status,
            "employment_registered_on": employment_registered_on,
            "hardship_category": hardship_category,
            "employment_certificate_no": f"4201{id_number[10:14]}{id_number[14:17]}0001",
        },
        "hrss_pension": {
            "social_security_number": id_number,
            "personal_number": personal_number,
            "insured_city": city,
            "insured_employer": employer,
            "pension_insured_date": pension_date,
        },
        "hrss_sscard": {
            "sscard_status": "active",
            "sscard_number": f"HB{personal_number[-7:]}",
        },
        "medical_insurance": {
            "medical_insured_date": medical_date,
            "medical_insured_city": city,
        },
        "tax_contribution": {
            "taxpayer_status": "normal",
            "contribution_base": contribution_base,
        },
        "talent_dossier": {
            "dossier_holder": dossier_holder,
            "dossier_region_code": city,
        },
    }
    return MappingProxyType({k: MappingProxyType(v) for k, v in records.items() if k not in omit})


_VALID_CERTS: Final[Mapping[str, CertificateState]] = MappingProxyType(
    {"id_card": "valid", "household_register": "valid"}
)

PERSONAS: Final[Mapping[str, Persona]] = MappingProxyType(
    {
        p.name: p
        for p in (
            Persona(
                name="complete",
                exercises="every source answers; identity-card and household-register certificates valid",
                id_number="420102198803150137",
                full_name="王测完",
                gender="1",
                birth_date="1988-03-15",
                mobile="13800000001",
                records=_records(
                    id_number="420102198803150137",
                    full_name="王测完",
                    gender="1",
                    birth_date="1988-03-15",
                    mobile="13800000001",
                    region="420102",
                    city="420100",
                    address="湖北省武汉市江岸区测试路1号",
                    personal_number="4201000000000001",
                ),
                certificates=_VALID_CERTS,
            ),
            Persona(
                name="never-insured",
                exercises="pension and medical sources answer not found",
                id_number="420106199507220241",
                full_name="李未保",
                gender="2",
                birth_date="1995-07-22",
                mobile="13800000002",
                records=_records(
                    id_number="420106199507220241",
                    full_name="李未保",
                    gender="2",
                    birth_date="1995-07-22",
                    mobile="13800000002",
                    region="420106",
                    city="420100",
                    address="湖北省武汉市武昌区测试街2号",
                    marital_status="10",
                    education="31",
                    personal_number="4201000000000002",
                    omit=("hrss_pension", "medical_insurance"),
                ),
                certificates=_VALID_CERTS,
            ),
            Persona(
                name="no-household-record",
                exercises="household register answers not found",
                id_number="420111199101300357",
                full_name="张无户",
                gender="1",
                birth_date="1991-01-30",
                mobile="13800000003",
                records=_records(
                    id_number="420111199101300357",
                    full_name="张无户",
                    gender="1",
                    birth_date="1991-01-30",
                    mobile="13800000003",
                    region="420111",
                    city="420100",
                    address="湖北省武汉市洪山区测试大道3号",
                    personal_number="4201000000000003",
                    omit=("psb_household",),
                ),
                certificates=MappingProxyType({"id_card": "valid"}),
            ),
            Persona(
                name="certificate-revoked",
                exercises="household-register certificate revoked",
                id_number="42060219850611046X",
                full_name="刘销证",
                gender="2",
                birth_date="1985-06-11",
                mobile="13800000004",
                records=_records(
                    id_number="42060219850611046X",
                    full_name="刘销证",
                    gender="2",
                    birth_date="1985-06-11",
                    mobile="13800000004",
                    region="420602",
                    city="420600",
                    address="湖北省襄阳市襄城区测试巷4号",
                    hukou_nature="2",
                    personal_number="4206000000000004",
                    employer="襄阳测试商贸有限公司",
                ),
                certificates=MappingProxyType({"id_card": "valid", "household_register": "revoked"}),
            ),
            Persona(
                name="certificate-expired",
                exercises="identity-card certificate past its validity",
                id_number="420202198609080572",
                full_name="陈过期",
                gender="1",
                birth_date="1986-09-08",
                mobile="13800000005",
                records=_records(
                    id_number="420202198609080572",
                    full_name="陈过期",
                    gender="1",
                    birth_date="1986-09-08",
                    mobile="13800000005",
                    region="420202",
                    city="420200",
                    address="湖北省黄石市黄石港区测试路5号",
                    personal_number="4202000000000005",
                ),
                certificates=MappingProxyType({"id_card": "expired", "household_register": "valid"}),
            ),
            Persona(
                name="certificate-bad-signature",
                exercises="household-register certificate whose seal does not verify",
                id_number="42010519930214068X",
                full_name="杨坏签",
                gender="2",
                birth_date="1993-02-14",
                mobile="13800000006",
                records=_records(
                    id_number="42010519930214068X",
                    full_name="杨坏签",
                    gender="2",
                    birth_date="1993-02-14",
                    mobile="13800000006",
                    region="420105",
                    city="420100",
                    address="湖北省武汉市汉阳区测试街6号",
                    personal_number="4201000000000006",
                ),
                certificates=MappingProxyType({"id_card": "valid", "household_register": "bad_signature"}),
            ),
            Persona(
                name="unknown-person",
                exercises="no source knows the person",
                id_number="420104200001010792",
                full_name="赵查无",
                gender="1",
                birth_date="2000-01-01",
                mobile="13800000007",
                records=MappingProxyType({}),
                certificates=MappingProxyType({}),
            ),
            Persona(
                name="slow-source",
                exercises="medical_insurance answers after 5 s (past the prefill deadline)",
                id_number="420302198704200822",
                full_name="周慢源",
                gender="2",
                birth_date="1987-04-20",
                mobile="13800000008",
                records=_records(
                    id_number="420302198704200822",
                    full_name="周慢源",
                    gender="2",
                    birth_date="1987-04-20",
                    mobile="13800000008",
                    region="420302",
                    city="420300",
                    address="湖北省十堰市茅箭区测试路8号",
                    personal_number="4203000000000008",
                ),
                behaviours=MappingProxyType({"medical_insurance": SourceBehaviour(latency_s=5.0)}),
                certificates=_VALID_CERTS,
            ),
            Persona(
                name="source-down",
                exercises="hrss_pension answers 503 for this persona",
                id_number="420802199008250916",
                full_name="吴断源",
                gender="1",
                birth_date="1990-08-25",
                mobile="13800000009",
                records=_records(
                    id_number="420802199008250916",
                    full_name="吴断源",
                    gender="1",
                    birth_date="1990-08-25",
                    mobile="13800000009",
                    region="420802",
                    city="420800",
                    address="湖北省荆门市东宝区测试街9号",
                    personal_number="4208000000000009",
                ),
                behaviours=MappingProxyType({"hrss_pension": SourceBehaviour(status=503)}),
                certificates=_VALID_CERTS,
            ),
        )
    }
)

_BY_ID_NUMBER: Final[Mapping[str, Persona]] = MappingProxyType({p.id_number: p for p in PERSONAS.values()})


def persona_by_name(name: str) -> Persona:
    """The persona called ``name``; ``KeyError`` (naming the valid choices) if there is none."""
    try:
        return PERSONAS[name]
    except KeyError:
        raise KeyError(f"unknown persona {name!r}; known: {', '.join(PERSONAS)}") from None


def persona_by_id_number(id_number: str) -> Persona | None:
    """The persona with this ID number (case of the check digit ignored), or ``None``."""
    return _BY_ID_NUMBER.get(id_number.strip().upper())
