from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from prefill.catalog.loader import CatalogueError, load_catalogue

THEME = "flexible-employment"


def edit(root: Path, name: str, change) -> None:
    path = root / THEME / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def entry(items: list[dict], code: str) -> dict:
    return next(item for item in items if item["code"] == code)


def test_packaged_catalogue_loads_with_the_plans_parts():
    catalogue = load_catalogue(THEME)
    assert len(catalogue.matters) == 7
    assert len(catalogue.materials) == 19
    assert len(catalogue.forms.original) == 5
    assert catalogue.forms.merged.name == "灵活就业一件事申请表"
    assert catalogue.matters["dossier_receive"].depends_on == ["dossier_transfer_out"]


def test_synonyms_across_forms_land_on_one_canonical_field():
    catalogue = load_catalogue(THEME)
    assert {"移动电话", "手机号码", "手机号"} <= set(catalogue.fields["mobile"].synonyms)
    assert {"婚姻状态", "婚姻状况"} <= set(catalogue.fields["marital_status"].synonyms)
    names = {ff.name for form in catalogue.forms.original for ff in form.fields if ff.field == "mobile"}
    assert names == {"移动电话", "手机号码", "手机号"}


def test_every_material_the_plan_does_not_name_is_an_assumption_with_a_reason():
    catalogue = load_catalogue(THEME)
    for material in catalogue.materials.values():
        assert material.provenance.plan or (material.provenance.assumption or "").strip()
    assumed = [m.code for m in catalogue.materials.values() if not m.provenance.plan]
    assert len(assumed) == 5  # the 7 left after the reform, less the 2 the plan names


def test_code_sets_of_the_national_standards():
    codesets = load_catalogue(THEME).codesets.codesets
    assert set(codesets["gender"].codes) == {"0", "1", "2", "9"}
    assert set(codesets["marital_status"].codes) == {"10", "20", "21", "22", "23", "30", "40", "90"}
    assert len(codesets["ethnicity"].codes) == 56
    assert all(len(code) == 2 for code in codesets["ethnicity"].codes)
    assert set(codesets["political_status"].codes) == {f"{n:02d}" for n in range(1, 14)}
    assert {"111", "113", "414", "516"} <= set(codesets["id_type"].codes)
    assert codesets["region"].codes["420000"] == "湖北省"


def test_fields_for_matters_is_data_minimisation():
    catalogue = load_catalogue(THEME)
    medical = {f.code for f in catalogue.fields_for(["medical_enrolment"])}
    assert "medical_insured_date" in medical
    assert "dossier_holder" not in medical and "contribution_base" not in medical
    assert {"name", "id_number", "mobile"} <= medical


@pytest.mark.parametrize(
    ("file", "change", "entry_name", "words"),
    [
        (
            "matters.yaml",
            lambda d: entry(d, "dossier_receive").update(department="nowhere"),
            "dossier_receive",
            "unknown department",
        ),
        (
            "matters.yaml",
            lambda d: entry(d, "dossier_transfer_out").update(depends_on=["dossier_receive"]),
            None,
            "cycle",
        ),
        (
            "matters.yaml",
            lambda d: entry(d, "employment_registration").update(statutory_days="twenty"),
            "employment_registration",
            "statutory_days",
        ),
        (
            "matters.yaml",
            lambda d: entry(d, "employment_registration").update(colour="red"),
            "employment_registration",
            "colour",
        ),
        (
            "materials.yaml",
            lambda d: entry(d, "recent_photo").update(provenance={}),
            "recent_photo",
            "provenance",
        ),
        (
            "materials.yaml",
            lambda d: entry(d, "resident_id_card").update(waivable_by=[{"certificate": "passport"}]),
            "resident_id_card",
            "unknown certificate type",
        ),
        (
            "materials.yaml",
            lambda d: d.append(dict(entry(d, "labour_contract"))),
            "labour_contract",
            "duplicate",
        ),
        ("fields.yaml", lambda d: entry(d, "gender").update(codeset="sexes"), "gender", "unknown code set"),
        (
            "fields.yaml",
            lambda d: entry(d, "mobile").update(provided_by="nowhere_source"),
            "mobile",
            "unknown source",
        ),
        (
            "fields.yaml",
            lambda d: entry(d, "marital_status").update(required=True),
            "marital_status",
            "non-required",
        ),
        (
            "forms.yaml",
            lambda d: d["original"][0]["fields"].append({"name": "x", "field": "shoe_size"}),
            "employment_registration_form",
            "unknown field",
        ),
        (
            "codesets.yaml",
            lambda d: d["translations"][0]["map"].pop("1"),
            "psb_hukou_nature->hrss_hukou_nature",
            "does not map every code",
        ),
    ],
)
def test_a_broken_file_is_refused_naming_file_and_entry(catalogue_copy, file, change, entry_name, words):
    edit(catalogue_copy, file, change)
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(THEME, catalogue_copy)
    message = str(caught.value)
    assert file in message or (file == "matters.yaml" and "matters.yaml" in message)
    if entry_name is not None:
        assert repr(entry_name) in message
    assert words in message


def test_invalid_yaml_and_missing_file_are_named(catalogue_copy):
    (catalogue_copy / THEME / "outputs.yaml").write_text("- {code: [unclosed", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"outputs.yaml: not valid YAML"):
        load_catalogue(THEME, catalogue_copy)
    (catalogue_copy / THEME / "outputs.yaml").unlink()
    with pytest.raises(CatalogueError, match=r"outputs.yaml: file is missing"):
        load_catalogue(THEME, catalogue_copy)
