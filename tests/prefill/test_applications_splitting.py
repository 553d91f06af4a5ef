"""Splitting the merged form back into the 5 original department forms (拆分还原): table-driven, pure."""

from __future__ import annotations

import pytest

from prefill.applications.splitting import forms_for, split

from .applications_data import ID_NUMBER, VALID_VALUES, all_matters, catalogue, values_for

CATALOGUE = catalogue()


def by_form(matters, values):
    return {f.form: f for f in split(CATALOGUE, matters, values)}


def test_every_matter_gives_the_five_original_forms_with_their_departments():
    forms = split(CATALOGUE, all_matters(), VALID_VALUES)
    assert [(f.form, f.department) for f in forms] == [
        ("employment_registration_form", "employment_center"),
        ("sscard_application_form", "hrss_info_center"),
        ("medical_registration_form", "medical_security"),
        ("contribution_declaration_form", "tax"),
        ("dossier_receive_application", "talent_center"),
    ]


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        (
            "employment_registration_form",
            {
                "姓名": "王测完", "性别": "1", "民族": "01", "出生日期": "1988-03-15", "证件类型": "111",
                "证件号码": ID_NUMBER, "文化程度": "21", "政治面貌": "13", "婚姻状态": "20",
                "户口性质": "10", "户口所在地行政区划": "420102", "常住地址": "湖北省武汉市江岸区测试路1号",
                "邮寄地址": "湖北省武汉市江岸区测试路1号", "移动电话": "13800000001",
                "电子邮箱": "wang@example.cn", "就业形式": "3", "就业日期": "2025-12-01",
                "就业困难人员类别": "0", "参保地（市）": "420100", "参保单位": "灵活就业人员",
                "本次参保日期": "2026-01-01",
            },
        ),
        (
            "sscard_application_form",
            {
                "姓名": "王测完", "性别": "1", "民族": "01", "国家地区": "CHN", "证件类型": "111",
                "证件号码": ID_NUMBER, "出生日期": "1988-03-15", "社会保障号码": ID_NUMBER,
                "手机号码": "13800000001", "通讯地址": "湖北省武汉市江岸区测试路1号", "邮政编码": "430014",
                "领卡方式": "1",
            },
        ),
        (
            "medical_registration_form",
            {
                "姓名": "王测完", "性别": "1", "证件类型": "111", "证件号码": ID_NUMBER,
                "出生日期": "1988-03-15", "手机号": "13800000001", "户口性质": "10",
                "本次参保日期": "2026-01-01",
            },
        ),
        (
            "contribution_declaration_form",
            {
                "姓名": "王测完", "性别": "男", "证件类型": "111", "证件号码": ID_NUMBER,
                "社会保障号码": ID_NUMBER, "手机号码": "13800000001", "参保地（市）": "420100",
                "参保单位": "灵活就业人员", "本次参保日期": "2026-01-01", "缴费基数": "4000.00",
            },
        ),
        (
            "dossier_receive_application",
            {
                "姓名": "王测完", "性别": "1", "证件号码": ID_NUMBER, "出生日期": "1988-03-15",
                "文化程度": "21", "手机号码": "13800000001", "原档案保管单位": "武汉市人才服务中心",
                "档案所在地": "420100", "邮寄地址": "湖北省武汉市江岸区测试路1号",
            },
        ),
    ],
)  # fmt: skip
def test_each_form_gets_its_own_field_names_and_code_sets(form, expected):
    assert by_form(all_matters(), VALID_VALUES)[form].fields == expected


@pytest.mark.parametrize(
    ("psb", "hrss"), [("1", "20"), ("2", "10"), ("3", "20"), ("4", "10"), ("5", "30"), ("6", "30")]
)
def test_hukou_nature_is_translated_from_the_psb_set_to_the_hrss_set(psb, hrss):
    forms = by_form(all_matters(), {**VALID_VALUES, "hukou_nature": psb})
    assert forms["employment_registration_form"].fields["户口性质"] == hrss
    assert forms["medical_registration_form"].fields["户口性质"] == hrss


@pytest.mark.parametrize(("code", "label"), [("0", "未知"), ("1", "男"), ("2", "女"), ("9", "未知")])
def test_the_tax_form_writes_the_gender_label(code, label):
    forms = by_form(all_matters(), {**VALID_VALUES, "gender": code})
    assert forms["contribution_declaration_form"].fields["性别"] == label
    assert forms["employment_registration_form"].fields["性别"] == code


@pytest.mark.parametrize(
    ("matters", "forms"),
    [
        (["employment_registration"], ["employment_registration_form"]),
        (["pension_enrolment"], ["employment_registration_form"]),
        (["sscard_application"], ["sscard_application_form"]),
        (["medical_enrolment"], ["medical_registration_form"]),
        (["contribution_declaration"], ["contribution_declaration_form"]),
        (["dossier_receive"], ["dossier_receive_application"]),
        (["dossier_transfer_out", "dossier_receive"], ["dossier_receive_application"]),
        (["medical_enrolment", "contribution_declaration"],
         ["medical_registration_form", "contribution_declaration_form"]),
    ],
)  # fmt: skip
def test_only_the_forms_the_matters_need(matters, forms):
    assert [f.form for f in split(CATALOGUE, matters, values_for(matters))] == forms
    assert [f.code for f in forms_for(CATALOGUE, matters)] == forms


def test_fields_no_requested_matter_needs_are_left_out_of_the_form():
    # Only dossier_receive: the dossier's region is needed by the transfer-out matter alone.
    matters = ["dossier_receive"]
    (form,) = split(CATALOGUE, matters, values_for(matters))
    assert "档案所在地" not in form.fields
    assert form.matters == ("dossier_receive",)


def test_an_unfilled_optional_field_is_a_blank_box():
    values = {k: v for k, v in VALID_VALUES.items() if k not in ("email", "hukou_nature")}
    forms = by_form(all_matters(), values)
    assert forms["employment_registration_form"].fields["电子邮箱"] is None
    assert forms["medical_registration_form"].fields["户口性质"] is None


def test_form_field_names_are_unique_within_each_form():
    for form in CATALOGUE.forms.original:
        names = [f.name for f in form.fields]
        assert len(names) == len(set(names)), form.code
