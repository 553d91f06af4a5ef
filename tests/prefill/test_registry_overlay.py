"""The registry's effect as pure functions, the effective view's rebuild rules, and a real race of two
edits on the database under test (SQLite, or PostgreSQL in CI's second run)."""

from __future__ import annotations

import dataclasses
import threading
from types import SimpleNamespace

import pytest
from sqlmodel import SQLModel

from connectors.codesets import load_code_sets
from connectors.config import load_sources
from prefill import db
from prefill.auth.policy import Principal
from prefill.auth.service import Role
from prefill.catalog.loader import load_catalogue
from prefill.catalog.service import CatalogueStore
from prefill.registry.effective import EffectiveRegistry
from prefill.registry.errors import VersionConflictError
from prefill.registry.overlay import (
    EMPTY,
    MappingRule,
    RegisteredField,
    RegistrySnapshot,
    WaiverRule,
    apply_registry,
    translation_name,
)
from prefill.registry.schemas import FieldRegistration, FieldSpec
from prefill.registry.service import RegistryService

THEME = "flexible-employment"
CATALOGUE = load_catalogue(THEME)
CONFIGS = load_sources()
CODES = load_code_sets()
RESIDENCE = RegisteredField(
    code="psb_residence_address",
    theme=THEME,
    department="psb",
    source="psb_household",
    request_name="JZDZ",
    response_path="JZDZ",
    type="string",
    transform="strip",
)
MAP_RESIDENCE = MappingRule(
    theme=THEME,
    field=RESIDENCE.code,
    merged_field="residence_address",
    original_form="employment_registration_form",
    original_field="现居住地址",
)


def snapshot(
    *mappings: MappingRule,
    waivers: tuple[WaiverRule, ...] = (),
    generation: int = 1,
    fields: tuple[RegisteredField, ...] = (RESIDENCE,),
) -> RegistrySnapshot:
    return RegistrySnapshot(
        generation=generation, fields={f.code: f for f in fields}, mappings=mappings, waivers=waivers
    )


def test_an_active_mapping_gives_the_merged_field_a_source_and_the_source_a_field():
    overlay = apply_registry({THEME: CATALOGUE}, CONFIGS, CODES, snapshot(MAP_RESIDENCE))
    effective = overlay.catalogues[THEME]
    assert effective.fields["residence_address"].provided_by == "psb_household"
    assert CATALOGUE.fields["residence_address"].provided_by is None  # the base is untouched
    mapping = overlay.source_configs["psb_household"].fields["residence_address"]
    assert (mapping.request, mapping.path, mapping.transform, mapping.code_set) == (
        "JZDZ",
        "JZDZ",
        "strip",
        None,
    )
    assert overlay.source_configs["psb_identity"] is CONFIGS["psb_identity"]  # unchanged: same object
    form = effective.original_forms["employment_registration_form"]
    assert any(f.name == "现居住地址" and f.field == "residence_address" for f in form.fields)
    assert overlay.skipped == ()


def test_a_rule_of_an_inactive_field_or_a_provided_merged_field_is_skipped_and_named():
    taken = MappingRule(theme=THEME, field=RESIDENCE.code, merged_field="name")
    overlay = apply_registry({THEME: CATALOGUE}, CONFIGS, CODES, snapshot(MAP_RESIDENCE, fields=()))
    assert overlay.catalogues[THEME].fields["residence_address"].provided_by is None
    assert overlay.source_configs["psb_household"] is CONFIGS["psb_household"]
    assert overlay.skipped == (
        "mapping psb_residence_address->residence_address: field psb_residence_address is not active",
    )
    assert (
        "already provided" in apply_registry({THEME: CATALOGUE}, CONFIGS, CODES, snapshot(taken)).skipped[0]
    )


def test_a_code_set_translation_becomes_a_connectors_translation_table():
    # A merged field in the tax form's label set, filled by a field in the GB/T 2261.1 code set.
    fields = dict(CATALOGUE.fields)
    fields["political_status"] = fields["political_status"].model_copy(update={"codeset": "gender_label"})
    catalogue = dataclasses.replace(CATALOGUE, fields=fields)
    coded = RegisteredField(
        code="psb_sex",
        theme=THEME,
        department="psb",
        source="psb_identity",
        request_name="XB",
        response_path="XB",
        type="code",
        codeset="gender",
    )
    rule = MappingRule(theme=THEME, field="psb_sex", merged_field="political_status")
    overlay = apply_registry({THEME: catalogue}, CONFIGS, CODES, snapshot(rule, fields=(coded,)))
    table = translation_name("gender", "gender_label")
    assert overlay.source_configs["psb_identity"].fields["political_status"].code_set == table
    assert overlay.code_sets.translate(table, "1") == "男"


def test_waiver_rules_append_to_waivable_by_only_when_their_fields_are_provided():
    waiver = WaiverRule(
        theme=THEME,
        material="household_register",
        source="psb_household",
        fields=("hukou_region_code", "residence_address"),
    )
    applied = apply_registry({THEME: CATALOGUE}, CONFIGS, CODES, snapshot(MAP_RESIDENCE, waivers=(waiver,)))
    waivers = applied.catalogues[THEME].materials["household_register"].waivable_by
    assert waivers[-1].shared_record == "psb_household" and len(waivers) == 2
    unmapped = apply_registry({THEME: CATALOGUE}, CONFIGS, CODES, snapshot(waivers=(waiver,)))
    assert len(unmapped.catalogues[THEME].materials["household_register"].waivable_by) == 1
    assert "not provided by psb_household" in unmapped.skipped[0]


class _Reader:
    def __init__(self) -> None:
        self.current = EMPTY
        self.reads = 0

    def generation(self) -> int:
        self.reads += 1
        return self.current.generation

    def snapshot(self) -> RegistrySnapshot:
        return self.current


def test_the_effective_view_rebuilds_only_changed_sources_and_keeps_their_breakers():
    clock = SimpleNamespace(now=0.0)
    built: list[str] = []
    base = {sid: SimpleNamespace(config=cfg, breaker=object()) for sid, cfg in CONFIGS.items()}

    def build(config, code_sets):
        built.append(config.id)
        return SimpleNamespace(config=config, breaker=object())

    reader = _Reader()
    view = EffectiveRegistry(
        catalogues=CatalogueStore({THEME: CATALOGUE}),
        configs=CONFIGS,
        sources=base,
        code_sets=CODES,
        build_source=build,
        reader=reader,
        max_staleness_s=5.0,
        monotonic=lambda: clock.now,
    )
    assert view.catalogue_for(THEME).fields["residence_address"].provided_by is None
    reader.current = snapshot(MAP_RESIDENCE, generation=7)
    clock.now = 1.0
    assert view.catalogue_for(THEME).fields["residence_address"].provided_by is None  # not stale yet
    view.invalidate()  # a change in this process shows at once
    assert view.catalogue_for(THEME).fields["residence_address"].provided_by == "psb_household"
    assert built == ["psb_household"] and view.generation == 7
    assert all(view.sources()[sid] is base[sid] for sid in CONFIGS if sid != "psb_household")
    reads = reader.reads
    view.catalogue_for(THEME)
    assert reader.reads == reads  # within max_staleness_s: no database read
    reader.current = snapshot(generation=8, fields=())
    clock.now = 10.0  # another process deprecated it: seen once stale
    assert view.catalogue_for(THEME).fields["residence_address"].provided_by is None
    assert view.sources()["psb_household"] is base["psb_household"]  # back to the original object


@pytest.fixture
def service(database_url):
    engine = db.make_engine(database_url)
    SQLModel.metadata.create_all(
        engine, tables=[t for n, t in db.metadata().tables.items() if n.startswith("registry_")]
    )
    yield RegistryService(engine, CatalogueStore({THEME: CATALOGUE}), CONFIGS)
    engine.dispose()


def test_two_concurrent_edits_one_wins_the_other_gets_a_conflict(service):
    psb = Principal(client_id="c-psb", client_name="psb", key_id="k", role=Role.department, department="psb")
    spec = {
        "theme": THEME,
        "label": "居住地址",
        "description": "d",
        "type": "string",
        "sensitivity": "internal",
        "sharing_class": "conditional",
        "legal_basis": "b",
        "source": "psb_household",
        "request_name": "JZDZ",
        "response_path": "JZDZ",
    }
    service.register(psb, FieldRegistration(code="psb_residence_address", **spec))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def edit(label: str) -> None:
        barrier.wait()
        try:
            service.update(psb, "psb_residence_address", FieldSpec(**{**spec, "label": label}), expected=1)
            outcomes.append("ok")
        except VersionConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=edit, args=(label,)) for label in ("甲", "乙")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    history = service.history("psb_residence_address").versions
    assert [v.version for v in history] == [1, 2]
    assert service.get_field("psb_residence_address").label == history[1].snapshot["label"]
