from __future__ import annotations

import json

import pytest
import yaml

from prefill.catalog.loader import load_catalogue
from prefill.catalog.report import plan_report
from prefill.cli import main

THEME = "flexible-employment"


def edit(root, name, change):
    path = root / THEME / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def matter(data, code):
    return next(m for m in data if m["code"] == code)


def test_report_reproduces_the_plans_figures():
    report = plan_report(load_catalogue(THEME))
    assert report["matters"] == 7
    assert report["departments"] == 6
    assert report["forms"] == {"before": 5, "after": 1}
    assert report["materials"]["before"] == 19
    assert report["materials"]["after"] == 7
    assert report["materials"]["after_with_certificates"] == 5
    assert report["materials"]["reduced_by"] == {"electronic_form": 5, "not_necessary": 4, "deduplicated": 3}
    assert report["trips"] == {"before": 10, "after": 1}
    assert report["steps"] == {"before": 7, "after": 1}
    assert report["working_days"] == {"before": 116, "after": {"min": 2, "max": 40}}
    assert report["fields"]["deduplicated_by_sharing"] == 20
    assert report["fields"]["non_required"] == 22
    assert report["fields"]["prefilled_from_sharing"] == 9


def test_working_days_follow_the_statutory_limits(catalogue_copy):
    edit(catalogue_copy, "matters.yaml", lambda d: matter(d, "medical_enrolment").update(statutory_days=15))
    assert plan_report(load_catalogue(THEME, catalogue_copy))["working_days"]["before"] == 126


def test_critical_path_follows_the_dependencies(catalogue_copy):
    # Without the dependency, transfer-out and receipt run side by side: 1-20 instead of 2-40.
    edit(catalogue_copy, "matters.yaml", lambda d: matter(d, "dossier_receive").update(depends_on=[]))
    assert plan_report(load_catalogue(THEME, catalogue_copy))["working_days"]["after"] == {
        "min": 1,
        "max": 20,
    }


def test_critical_path_takes_the_longest_chain(catalogue_copy):
    def chain(data):
        # The card now waits for the receipt: transfer-out (1-20) -> receipt (1-20) -> card (1-12).
        matter(data, "sscard_application").update(depends_on=["dossier_receive"])

    edit(catalogue_copy, "matters.yaml", chain)
    assert plan_report(load_catalogue(THEME, catalogue_copy))["working_days"]["after"] == {
        "min": 3,
        "max": 52,
    }


def test_materials_follow_the_data(catalogue_copy):
    def keep_photo_needed_and_make_letter_necessary(data):
        letter = next(m for m in data if m["code"] == "introduction_letter")
        letter["reduction"] = {"method": None}
        card = next(m for m in data if m["code"] == "resident_id_card")
        card["waivable_by"] = []

    edit(catalogue_copy, "materials.yaml", keep_photo_needed_and_make_letter_necessary)
    materials = plan_report(load_catalogue(THEME, catalogue_copy))["materials"]
    assert materials["after"] == 8
    assert materials["after_with_certificates"] == 7


def test_an_output_that_cannot_be_mailed_costs_a_trip(catalogue_copy):
    edit(catalogue_copy, "outputs.yaml", lambda d: d[3].update(mailable=False))
    assert plan_report(load_catalogue(THEME, catalogue_copy))["trips"]["after"] == 2


def test_cli_report_json(capsys):
    assert main(["catalog", "report", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["materials"] == {
        "before": 19,
        "after": 7,
        "after_with_certificates": 5,
        "reduced_by": {"electronic_form": 5, "not_necessary": 4, "deduplicated": 3},
    }
    assert report["working_days"]["after"] == {"min": 2, "max": 40}


def test_cli_report_text(capsys):
    assert main(["catalog", "report"]) == 0
    out = capsys.readouterr().out
    assert "116 -> 2-40" in out and "19 -> 7" in out


def test_cli_refuses_a_broken_catalogue_naming_it(catalogue_copy, monkeypatch, capsys):
    edit(catalogue_copy, "matters.yaml", lambda d: matter(d, "dossier_receive").update(department="nowhere"))
    monkeypatch.setenv("PREFILL_CATALOG_DIR", str(catalogue_copy))
    assert main(["catalog", "report"]) == 2
    assert "matters.yaml, entry 'dossier_receive'" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["PREFILL_DATABSE_URL", "PREFILL_SOURCE_MODE"])
def test_unknown_settings_are_refused_by_name(monkeypatch, capsys, bad):
    monkeypatch.setenv(bad, "x")
    assert main(["catalog", "report"]) == 2
    assert bad in capsys.readouterr().err
