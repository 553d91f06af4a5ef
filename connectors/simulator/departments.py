"""How each simulated department answers: its own paths, field names, envelopes and code sets.

This is the departments' side and deliberately independent of ``connectors/data/sources.yaml`` (the
connectors' side): the integration tests prove the two agree, as they would have to in production.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

Encoder = Callable[[str], Any]


def _same(v: str) -> Any:
    return v


def _yyyymmdd(v: str) -> Any:
    return v.replace("-", "")


def _number(v: str) -> Any:
    return float(Decimal(v))


def _reverse(table: Mapping[str, str]) -> Encoder:
    inverse = {canonical: own for own, canonical in table.items()}
    return lambda v: inverse[v]


# Departments' own code sets (their code → canonical), held here as the department's data.
_PSB_NATIONALITY = {"156": "CHN", "344": "HKG", "446": "MAC", "158": "TWN"}
_HRSS_EMPLOYMENT_STATUS = {"1": "employed", "2": "unemployed", "3": "flexible_employed"}
# Canonical values are the catalogue's hardship_category codes (prefill/catalog/.../codesets.yaml).
_HRSS_HARDSHIP = {"00": "0", "01": "3", "02": "1", "03": "2"}
_HRSS_SSCARD_STATUS = {"1": "active", "2": "reported_lost", "3": "suspended", "9": "cancelled"}
_TAX_STATUS = {"03": "normal", "05": "suspended", "99": "cancelled"}


@dataclass(frozen=True)
class DeptField:
    canonical: str
    path: str
    """Dotted path inside the data object of the answer."""
    encode: Encoder = _same


@dataclass(frozen=True)
class Department:
    source_id: str
    path: str
    subject_field: str
    fields_field: str
    fields: Mapping[str, DeptField]
    """The department's own field name → where and how it answers it."""
    ok: Callable[[dict[str, Any], str], dict[str, Any]]
    """(data, record version) → whole answer."""
    not_found: Callable[[], dict[str, Any]]
    bad_request: Callable[[str], dict[str, Any]]


def set_path(target: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node = target
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _psb(source_id: str, path: str, fields: Mapping[str, DeptField]) -> Department:
    return Department(
        source_id=source_id,
        path=path,
        subject_field="GMSFHM",
        fields_field="CXZD",
        fields=fields,
        ok=lambda data, version: {"CODE": "0000", "MSG": "查询成功", "DATA": data, "BBH": version},
        not_found=lambda: {"CODE": "1001", "MSG": "查无此人", "DATA": None},
        bad_request=lambda msg: {"CODE": "2001", "MSG": msg, "DATA": None},
    )


DEPARTMENTS: Mapping[str, Department] = {
    d.source_id: d
    for d in (
        _psb(
            "psb_identity",
            "/psb/rkxx/v1/identity/query",
            {
                "XM": DeptField("name", "XM"),
                "XB": DeptField("gender", "XB"),
                "MZ": DeptField("ethnicity", "MZ"),
                "CSRQ": DeptField("birth_date", "CSRQ", _yyyymmdd),
                "GJDQ": DeptField("nationality", "GJDQ", _reverse(_PSB_NATIONALITY)),
            },
        ),
        _psb(
            "psb_household",
            "/psb/czrk/v1/household/query",
            {
                "HKXZ": DeptField("hukou_nature", "HKXZ"),
                "HJDZ_XZQHDM": DeptField("hukou_region_code", "HJDZ_XZQHDM"),
                "HJDZ_DZMC": DeptField("hukou_address", "HJDZ_DZMC"),
                "LHRQ": DeptField("hukou_registered_on", "LHRQ", _yyyymmdd),
                "HYZK": DeptField("marital_status", "HYZK"),
                "WHCD": DeptField("education", "WHCD"),
                # Held but not published in sources.yaml (personas.UNPUBLISHED_FIELDS): registry demo.
                "JZDZ": DeptField("residence_address", "JZDZ"),
            },
        ),
        Department(
            source_id="hrss_employment",
            path="/hrss/employment/api/v2/registration/query",
            subject_field="aac002",
            fields_field="fields",
            fields={
                "mobile": DeptField("mobile", "person.contact.mobile"),
                "status": DeptField(
                    "employment_status", "registration.status", _reverse(_HRSS_EMPLOYMENT_STATUS)
                ),
                "registeredDate": DeptField("employment_registered_on", "registration.registeredDate"),
                "hardshipType": DeptField(
                    "hardship_category", "registration.hardship.type", _reverse(_HRSS_HARDSHIP)
                ),
                "certificateNo": DeptField("employment_certificate_no", "registration.certificate.number"),
            },
            ok=lambda data, version: {"code": 0, "message": "success", "data": {**data, "version": version}},
            not_found=lambda: {"code": 40401, "message": "未查询到就业登记信息", "data": None},
            bad_request=lambda msg: {"code": 40001, "message": msg, "data": None},
        ),
        Department(
            source_id="hrss_pension",
            path="/hrss/pension/api/v1/insured/query",
            subject_field="aac002",
            fields_field="items",
            fields={
                "aae135": DeptField("social_security_number", "aae135"),
                "aac001": DeptField("personal_number", "aac001"),
                "aab301": DeptField("insured_city", "aab301"),
                "aab004": DeptField("insured_employer", "aab004"),
                "aac049": DeptField("pension_insured_date", "aac049", _yyyymmdd),
            },
            ok=lambda data, version: {"flag": "1", "msg": "", "result": {**data, "aae036": version}},
            not_found=lambda: {"flag": "2", "msg": "无参保记录", "result": None},
            bad_request=lambda msg: {"flag": "0", "msg": msg, "result": None},
        ),
        Department(
            source_id="hrss_sscard",
            path="/hrss/sscard/v1/card/query",
            subject_field="sfzhm",
            fields_field="fields",
            fields={
                "kzt": DeptField("sscard_status", "kzt", _reverse(_HRSS_SSCARD_STATUS)),
                "kh": DeptField("sscard_number", "kh"),
            },
            ok=lambda data, version: {"success": True, "errcode": "0", "data": {"card": data}},
            not_found=lambda: {"success": False, "errcode": "NO_CARD", "errmsg": "未申领社会保障卡"},
            bad_request=lambda msg: {"success": False, "errcode": "BAD_REQUEST", "errmsg": msg},
        ),
        Department(
            source_id="medical_insurance",
            path="/ybj/api/psn/insuinfo",
            subject_field="psn_cert_no",
            fields_field="fields",
            fields={
                "psn_insu_date": DeptField("medical_insured_date", "psn_insu_date"),
                "insuplc_admdvs": DeptField("medical_insured_city", "insuplc_admdvs"),
            },
            ok=lambda data, version: {"infcode": 0, "err_msg": "", "output": {"insuinfo": data}},
            not_found=lambda: {"infcode": -2, "err_msg": "未查询到人员参保信息", "output": None},
            bad_request=lambda msg: {"infcode": -1, "err_msg": msg, "output": None},
        ),
        Department(
            source_id="tax_contribution",
            path="/tax/api/sbf/contributor/query",
            subject_field="zjhm",
            fields_field="cxx",
            fields={
                "nsrzt": DeptField("taxpayer_status", "nsrzt", _reverse(_TAX_STATUS)),
                "jfjs": DeptField("contribution_base", "jfjs", _number),
            },
            ok=lambda data, version: {"returnCode": "00", "returnMsg": "成功", "body": data},
            not_found=lambda: {"returnCode": "04", "returnMsg": "无缴费人信息", "body": None},
            bad_request=lambda msg: {"returnCode": "01", "returnMsg": msg, "body": None},
        ),
        Department(
            source_id="talent_dossier",
            path="/rczx/dossier/v1/query",
            subject_field="idcard",
            fields_field="fields",
            fields={
                "holder": DeptField("dossier_holder", "holder"),
                "regionCode": DeptField("dossier_region_code", "regionCode"),
            },
            ok=lambda data, version: {"status": "ok", "dossier": data},
            not_found=lambda: {"status": "none", "dossier": None},
            bad_request=lambda msg: {"status": "error", "message": msg},
        ),
    )
}


def render(dept: Department, record: Mapping[str, str], names: list[str]) -> dict[str, Any]:
    """The data object with only the requested field names (data minimisation)."""
    data: dict[str, Any] = {}
    for name in names:
        f = dept.fields[name]
        if f.canonical in record:
            set_path(data, f.path, f.encode(record[f.canonical]))
    return data
