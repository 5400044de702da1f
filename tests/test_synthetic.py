"""The synthetic registry generator: reproducible, plausible, valid, audited, never in a real centre."""

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command, get_commands
from django.db import connection
from django.utils import timezone

from cases.audit import history_writing_bulk
from cases.models import (
    AdverseEvent,
    Assessment,
    Consent,
    FollowUpStatus,
    MedicationCourse,
    MscAdministration,
    MscProduct,
    MscProvider,
    Patient,
    PreviousDiagnosis,
)
from registry.models import Centre
from synthetic import bulk_copy
from synthetic.generator import SyntheticError, generate
from tests.factories import MedicationCourseFactory, PatientFactory

CHILDREN = {
    PreviousDiagnosis: "patient",
    MedicationCourse: "patient",
    MscProduct: "patient",
    MscAdministration: "product__patient",
    AdverseEvent: "patient",
    Assessment: "patient",
    Consent: "patient",
    FollowUpStatus: "patient",
}
IDS = {"id", "centre", "patient", "product", "administration", "provider"}


def snapshot(centre):
    """Every value of every record of a centre, with links by study ID and position, not by pk."""
    rows = {}
    fields = [f.attname for f in Patient._meta.concrete_fields if f.name not in IDS]
    rows["patients"] = [
        (p.study_id, *(getattr(p, f) for f in fields), sorted(p.funding_sources.values_list("code", flat=True)))
        for p in Patient.objects.filter(centre=centre).order_by("study_id")
    ]
    for model, path in CHILDREN.items():
        fields = [f.attname for f in model._meta.concrete_fields if f.name not in IDS]
        extra = {
            MscProduct: ["provider__name"],
            MscAdministration: ["product__label"],
            AdverseEvent: ["administration__sequence"],
        }.get(model, [])
        rows[model.__name__] = list(
            model.objects.filter(**{f"{path}__centre": centre})
            .order_by(f"{path}__study_id", "id")
            .values_list(f"{path}__study_id", *extra, *fields)
        )
    rows["flare links"] = list(
        AdverseEvent.preceding_withdrawals.through.objects.filter(adverseevent__patient__centre=centre)
        .order_by("adverseevent__patient__study_id", "adverseevent_id", "medicationcourse_id")
        .values_list(
            "adverseevent__description", "medicationcourse__drug", "medicationcourse__stop_days_from_first_msc"
        )
    )
    return rows


@pytest.mark.django_db
def test_same_seed_same_data_other_seed_other_data():
    generate(15, seed=42, centre_code="SYN-R1")
    generate(15, seed=42, centre_code="SYN-R2")
    generate(15, seed=43, centre_code="SYN-R3")
    first, second, other = (snapshot(Centre.objects.get(code=c)) for c in ("SYN-R1", "SYN-R2", "SYN-R3"))
    assert first == second
    assert first != other
    assert first["patients"][0][0] == "SYN-000001"


@pytest.mark.django_db
def test_consents_come_from_their_own_stream_so_the_other_draws_of_a_seed_are_unchanged(monkeypatch):
    generate(15, seed=42, centre_code="SYN-C1")
    monkeypatch.setattr("synthetic.cases.draw_consents", lambda rng, case, msc_age: None)
    generate(15, seed=42, centre_code="SYN-C2")
    with_consent, without = (snapshot(Centre.objects.get(code=c)) for c in ("SYN-C1", "SYN-C2"))
    assert with_consent.pop("Consent") and without.pop("Consent") == []
    assert with_consent == without


@pytest.mark.django_db
def test_every_synthetic_case_has_parental_permission_some_assent_and_a_few_withdrawals():
    result = generate(300, seed=11, centre_code="SYN-CONSENT")
    consents = Consent.objects.filter(patient__centre=result.centre)
    permissions = consents.filter(kind="parental_permission")
    assert permissions.values("patient").distinct().count() == 300 == permissions.count()
    assert 30 < consents.filter(kind="child_assent").count() < 300
    assert 0 < permissions.filter(consent_withdrawn_on__isnull=False).count() < 30
    assert result.records["consents"] == consents.count()


@pytest.mark.django_db
def test_refuses_a_real_centre_and_writes_nothing():
    Centre.objects.create(code="REAL", name="A real centre", country="GB", is_synthetic=False)
    with pytest.raises(SyntheticError, match="real cases"):
        generate(3, seed=1, centre_code="REAL")
    with pytest.raises(CommandError, match="real cases"):
        call_command("generate_synthetic", "--patients", "3", "--seed", "1", "--centre", "REAL")
    assert not Patient.all_objects.exists()


@pytest.mark.django_db
def test_refuses_a_centre_that_already_holds_cases():
    generate(2, seed=1, centre_code="SYN-TWICE")
    with pytest.raises(SyntheticError, match="already holds 2 cases"):
        generate(2, seed=1, centre_code="SYN-TWICE")


@pytest.mark.django_db
def test_the_command_creates_a_synthetic_centre(capsys):
    call_command("generate_synthetic", "--patients", "4", "--seed", "3", "--centre", "SYN-CMD")
    assert "Generated 4 synthetic cases in centre SYN-CMD" in capsys.readouterr().out
    centre = Centre.objects.get(code="SYN-CMD")
    assert centre.is_synthetic
    assert sorted(Patient.objects.filter(centre=centre).values_list("study_id", flat=True)) == [
        "SYN-000001",
        "SYN-000002",
        "SYN-000003",
        "SYN-000004",
    ]


@pytest.mark.django_db
def test_every_generated_record_passes_full_clean_and_is_marked_synthetic():
    result = generate(40, seed=7, centre_code="SYN-VALID")
    records = [*Patient.objects.filter(centre=result.centre)]
    for model, path in CHILDREN.items():
        records += list(model.objects.filter(**{f"{path}__centre": result.centre}))
    records += list(MscProvider.objects.filter(products__patient__centre=result.centre).distinct())
    assert len(records) > 40 * 10
    for record in records:
        record.full_clean()
        assert record.abstracted_from == "synthetic", record
    assert all(p.study_id.startswith("SYN-") for p in records[:40])
    assert all(p.name.startswith("Synthetic ") for p in MscProvider.objects.filter(abstracted_from="synthetic"))


@pytest.mark.django_db
def test_counts_are_clinically_plausible():
    result = generate(300, seed=11, centre_code="SYN-PLAUSIBLE")
    patients = Patient.objects.filter(centre=result.centre)
    assert patients.count() == 300
    diagnoses = dict.fromkeys(["jia", "sle", "mctd", "jdm"], 0)
    for d in patients.values_list("diagnosis", flat=True):
        diagnoses[d] = diagnoses.get(d, 0) + 1
    assert 80 < diagnoses["jia"] < 160 and 40 < diagnoses["sle"] < 110 and diagnoses["mctd"] and diagnoses["jdm"]
    jia = patients.filter(diagnosis="jia")
    assert not jia.filter(jia_category="").exists()
    assert len(set(jia.values_list("jia_category", flat=True))) >= 6
    assert not patients.exclude(diagnosis="jia").exclude(jia_category="").exists()

    administrations = MscAdministration.objects.filter(product__patient__centre=result.centre)
    per_case = [
        administrations.filter(product__patient=p).count() for p in patients.order_by("study_id")[:60]
    ]  # a sample
    assert min(per_case) >= 1 and max(per_case) <= 6
    assert not administrations.filter(cells_millions__isnull=True).exists()
    assert not administrations.filter(weight_kg__isnull=True).exists()
    doses = [a.dose_millions_per_kg for a in administrations.filter(route="intravenous")[:200]]
    assert all(0.4 <= d <= 3 for d in doses)
    assert administrations.values("route").distinct().count() >= 5

    events = AdverseEvent.objects.filter(patient__centre=result.centre)
    graded = events.exclude(ctcae_grade__isnull=True)
    mild = graded.filter(ctcae_grade__lte=2).count()
    assert mild / graded.count() > 0.6  # mostly grade 1-2
    serious = events.serious().exclude(category="disease_flare").count()
    assert 0 < serious < 0.1 * events.count()  # serious events are rare
    flares = events.filter(category="disease_flare")
    assert flares.exists()
    assert all(f.preceding_withdrawals.exists() for f in flares[:30])

    courses = MedicationCourse.objects.filter(patient__centre=result.centre)
    withdrawn = courses.filter(reason_stopped__in=["msc_provider_instruction", "family_decision"])
    assert (
        withdrawn.filter(stop_decided_by="msc_provider").exists()
        and withdrawn.filter(team_knew_before_stop="no").exists()
    )
    assert courses.filter(relation_to_msc="after").exists()

    assessments = Assessment.objects.filter(patient__centre=result.centre)
    assert assessments.filter(timepoint="before_msc").count() == 300
    assert assessments.filter(timepoint="after_msc").count() > 300
    assert assessments.filter(patient_global_source="family_reported").exists()
    assert patients.filter(total_cost_amount__isnull=False).count() > 150

    statuses = FollowUpStatus.objects.filter(patient__centre=result.centre)
    assert statuses.count() == 300  # one each, at the end of follow-up
    assert statuses.filter(status="alive").count() > 200  # most alive
    assert 10 < statuses.filter(status="lost").count() < 60  # some lost to follow-up
    assert statuses.exclude(lost_reason="").count() == statuses.filter(status="lost").count()
    assert statuses.filter(status="died").count() < 10  # deaths rare


@pytest.mark.django_db
def test_history_rows_exist_for_every_record_including_many_to_many():
    result = generate(20, seed=5, centre_code="SYN-HIST")
    for model in (Patient, *CHILDREN):
        live = model.all_objects.count()
        assert model.history.filter(history_type="+").count() >= live > 0, model
    patient = Patient.objects.filter(centre=result.centre, funding_sources__isnull=False).first()
    created = patient.history.get(history_type="+")
    assert created.history_change_reason == "Synthetic data (generate_synthetic, seed 5)"
    assert sorted(r.fundingsource_id for r in created.funding_sources.all()) == sorted(
        patient.funding_sources.values_list("code", flat=True)
    )
    flare = AdverseEvent.objects.filter(patient__centre=result.centre, preceding_withdrawals__isnull=False).first()
    if flare:
        history = flare.history.get(history_type="+")
        assert {r.medicationcourse_id for r in history.preceding_withdrawals.all()} == set(
            flare.preceding_withdrawals.values_list("pk", flat=True)
        )


def creation_rows(model, centre):
    """Each record of the centre beside the creation row of its history, field by field."""
    path = "" if model is Patient else f"{CHILDREN[model]}__"
    records = model.all_objects.filter(**{f"{path}centre": centre}).order_by("pk")
    tracked = [f.attname for f in model._meta.concrete_fields]
    history = {h.id: h for h in model.history.filter(id__in=records.values("pk"), history_type="+")}
    return [
        ([getattr(r, f) for f in tracked], [getattr(history[r.pk], f) for f in tracked], history[r.pk].history_user_id)
        for r in records
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's; SQLite uses bulk_create")
@pytest.mark.django_db
def test_copy_on_postgresql_writes_what_bulk_create_writes_with_the_same_history(monkeypatch):
    copied = generate(25, seed=9, centre_code="SYN-COPY").centre
    monkeypatch.setattr(bulk_copy, "available", lambda: False)
    created = generate(25, seed=9, centre_code="SYN-BULK").centre
    assert snapshot(copied) == snapshot(created)
    for model in (Patient, *CHILDREN):
        rows = creation_rows(model, copied)
        assert len(rows) == len(creation_rows(model, created)) > 0, model
        for record, history, user in rows:
            assert history == record and user is None, model
    versions = Patient.objects.filter(centre__in=[copied, created]).values_list("version", flat=True)
    assert set(versions) == {1}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's; SQLite uses bulk_create")
def test_copy_writes_the_revision_number_of_a_save_in_the_table_and_in_the_creation_history(centre):
    """Records given no revision number: COPY writes the one a save writes, the same in both places,
    so a stale form's conflict message never takes the creation for a later change."""
    saved = PatientFactory(centre=centre)
    course = MedicationCourseFactory(patient=saved)
    copied = PatientFactory.build(centre=centre, study_id="SYN-COPY-VERSION")
    copied_course = MedicationCourseFactory.build(patient=saved)
    assert copied.version == copied_course.version == 0
    with history_writing_bulk():
        bulk_copy.create_with_history(Patient, [copied], timezone.now(), "Synthetic COPY")
        bulk_copy.create_with_history(MedicationCourse, [copied_course], timezone.now(), "Synthetic COPY")
    for model, by_save, by_copy in ((Patient, saved, copied), (MedicationCourse, course, copied_course)):
        in_table = model._base_manager.get(pk=by_copy.pk).version
        in_history = model.history.get(id=by_copy.pk).version
        assert in_table == in_history == by_save.version == model.history.get(id=by_save.pk).version == 1, model


@pytest.mark.django_db
def test_records_added_after_a_generated_load_get_new_ids_and_history():
    result = generate(5, seed=2, centre_code="SYN-AFTER")
    patient = Patient.objects.filter(centre=result.centre).first()
    highest = MedicationCourse.all_objects.order_by("-pk").first().pk
    course = MedicationCourse.objects.create(patient=patient, drug="methotrexate", abstracted_from="synthetic")
    assert course.pk > highest
    assert course.history.get().history_type == "+"


def planner_row_estimate(table):
    """What the database planner believes a table holds (None if it was never analysed)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
            estimate = cursor.fetchone()[0]
            return None if estimate < 0 else int(estimate)
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if not cursor.fetchone():
            return None
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s", [table])
        row = cursor.fetchone()
        return int(row[0].split()[0]) if row else None


@pytest.mark.django_db
def test_the_planner_knows_the_generated_rows_so_lists_use_the_right_plans():
    generate(12, seed=5, centre_code="SYN-STATS")
    assert planner_row_estimate("cases_patient") == 12
    assert planner_row_estimate("cases_mscadministration") == MscAdministration.objects.count()


def test_the_generator_lives_outside_the_clinical_app():
    """generate_synthetic comes from the synthetic app, and no module of the clinical app imports it."""
    assert get_commands()["generate_synthetic"] == "synthetic"
    importers = []
    for path in Path(apps.get_app_config("cases").path).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module]
            else:
                continue
            if any(module.split(".")[0] == "synthetic" for module in modules):
                importers.append(f"{path.name}:{node.lineno}")
    assert importers == []


@pytest.mark.django_db
def test_each_case_answers_whether_a_serious_event_followed_msc_as_its_events_say():
    from cases.quality import discrepancies

    result = generate(120, seed=11, centre_code="SYN-SERIOUS")
    patients = Patient.objects.filter(centre=result.centre)
    serious = set(
        AdverseEvent.objects.serious()
        .filter(patient__centre=result.centre, onset_days_from_first_msc__gte=0)
        .values_list("patient__study_id", flat=True)
    )
    answers = dict(patients.values_list("study_id", "serious_adverse_events"))
    assert serious and {s for s, a in answers.items() if a == "yes"} == serious
    assert {a for s, a in answers.items() if s not in serious} == {"no", "unknown"}
    assert 0 < sum(a == "unknown" for a in answers.values()) < 0.2 * len(answers)
    found = discrepancies.run(patients)
    assert not [d for ds in found.values() for d in ds if d.rule.code == "serious_events_contradicted"]
