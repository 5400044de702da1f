"""The fixture of the published series (Wong et al., Pediatric Rheumatology 2021) holds the paper's facts.

Each test names the fact it proves; the values come from the case text unless the test says 'table'.
"""

from collections import Counter
from decimal import Decimal as D
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cases.models import (
    AdverseEvent,
    Assessment,
    ChecklistStatement,
    FollowUpStatus,
    MedicationCourse,
    MscAdministration,
    MscProduct,
    MscProvider,
    Patient,
    PreviousDiagnosis,
)
from cases.reports.cohort import cohort_numbers
from registry.models import Centre

FIXTURE_DIR = Path(__file__).resolve().parent.parent / "fixtures"
RECORD_MODELS = [Patient, PreviousDiagnosis, MscProvider, MscProduct, MscAdministration, MedicationCourse]
RECORD_MODELS += [AdverseEvent, Assessment, FollowUpStatus]


@pytest.fixture
def fixture_dirs(settings):
    """Lets loaddata find the fixture by name whether or not the settings list fixtures/ already."""
    dirs = [Path(d) for d in getattr(settings, "FIXTURE_DIRS", [])]
    if FIXTURE_DIR not in dirs:
        settings.FIXTURE_DIRS = [*dirs, FIXTURE_DIR]


@pytest.fixture
def published_series(db, fixture_dirs):
    call_command("loaddata", "wong2021_case_series", verbosity=0)


def case(n):
    return Patient.objects.get(centre__code="WONG2021", study_id=f"WONG2021-{n}")


def administrations(n):
    return list(MscAdministration.objects.filter(product__patient=case(n)).order_by("sequence"))


def courses(n, **filters):
    return MedicationCourse.objects.filter(patient=case(n), **filters)


def drugs(queryset):
    return sorted(c.drug if c.drug != "other" else c.drug_detail for c in queryset)


def counts():
    return {model.__name__: model.objects.count() for model in [Centre, *RECORD_MODELS]}


# ---------------------------------------------------------------- cases, centre, patient-level facts


def test_series_is_one_centre_with_three_cases(published_series):
    centre = Centre.objects.get(code="WONG2021")
    assert centre.country == "US"
    assert not centre.is_synthetic
    assert "UCLA" in centre.name
    assert [(p.study_id, p.diagnosis, p.sex) for p in Patient.objects.filter(centre=centre)] == [
        ("WONG2021-1", "sle", "female"),
        ("WONG2021-2", "mctd", "female"),
        ("WONG2021-3", "jia", "female"),
    ]


def test_ages_at_onset_diagnosis_and_last_follow_up_follow_the_text(published_series):
    ages = [
        (p.age_at_onset_years, p.age_at_diagnosis_years, p.age_at_last_follow_up_years)
        for p in (case(1), case(2), case(3))
    ]
    # Case 1: follow-up 17 from "At 17 years old" (the table says 16); SLE at 9 + 3 y + 9 mo.
    assert ages == [
        (D("9.0"), D("12.8"), D("17.0")),
        (D("15.0"), D("15.0"), D("19.0")),
        (D("11.0"), D("11.0"), D("18.0")),
    ]


def test_age_at_first_msc_is_14_17_and_16(published_series):
    assert [administrations(n)[0].age_years for n in (1, 2, 3)] == [D("14.0"), D("17.0"), D("16.0")]


def test_case_1_diagnosis_evolved_from_scleritis_to_uctd_to_sle_by_acr_1997(published_series):
    history = PreviousDiagnosis.objects.filter(patient=case(1)).order_by("age_years")
    assert [(d.diagnosis, d.age_years) for d in history] == [
        ("other", D("9.0")),
        ("uctd", D("12.0")),
        ("sle", D("12.8")),
    ]
    assert "scleritis" in history[0].diagnosis_detail.lower()
    assert case(1).classification_criteria == "acr_1997"
    for item in ("malar rash", "discoid rash", "arthritis", "ANA"):
        assert item in case(1).criteria_items


def test_serology_and_family_history(published_series):
    one, two, three = case(1), case(2), case(3)
    assert (one.ana_titre, one.ana_pattern, one.anti_dsdna, one.anti_ena) == (640, "speckled", "negative", "negative")
    assert "maternal cousin" in one.family_history
    assert (two.ana_titre, two.ana_titre_comparator, two.ana_titre_display) == (1280, "gt", ">1:1280")
    assert (two.anti_dsdna, two.anti_rnp, two.rheumatoid_factor) == ("positive", "positive", "positive")
    assert (three.rheumatoid_factor, three.anti_ccp, three.hla_b27) == ("positive", "positive", "positive")


def test_families_chose_msc_against_advice_and_providers_never_talked_to_the_team(published_series):
    for n in (1, 2, 3):
        p = case(n)
        assert p.msc_decision == "against_medical_advice"
        assert p.provider_communicated_with_team == "no"
        assert p.paid_out_of_pocket == "yes"
        assert "tens of thousands of dollars per transfusion" in p.cost_notes
    assert (case(3).team_knew_before_msc, case(3).team_counselled_against) == ("yes", "yes")
    assert case(2).conventional_therapy_refused_after_msc == "yes"


def test_every_case_states_no_serious_adverse_event_with_the_discussions_sentence(published_series):
    for n in (1, 2, 3):
        p = case(n)
        assert p.serious_adverse_events == "no"
        assert (
            "Discussion, paragraph 1: 'Fortunately, in this series, all the MSC transplants were well tolerated and "
            "no patient had serious adverse effects such as infection, emboli, ectopic growth, or malignancy.'"
        ) in p.source_passage
        assert not p.adverse_events.serious().exists()


def test_sold_car_and_remortgage_are_not_assigned_to_any_case(published_series):
    for n in (1, 2, 3):
        p = case(n)
        assert list(p.funding_sources.values_list("code", flat=True)) == ["out_of_pocket_unspecified"]
        assert "sold their car" in p.cost_notes and "re-mortgaged" in p.cost_notes


# ---------------------------------------------------------------- MSC products and administrations


def test_case_1_had_four_iv_one_intranasal_and_one_lymph_node_administration(published_series):
    given = administrations(1)
    assert Counter(a.route for a in given) == {"intravenous": 4, "intranasal": 1, "lymph_node": 1}
    assert [(a.route, a.cells_millions) for a in given] == [
        ("intranasal", D("100")),
        ("lymph_node", D("100")),
        ("intravenous", D("379")),
        ("intravenous", D("256")),
        ("intravenous", D("393")),
        ("intravenous", D("234")),
    ]
    assert [a.reported_dose_millions_per_kg for a in given] == [D("1.8"), D("1.8"), None, None, None, None]
    assert [a.days_from_first_msc for a in given] == [0, 0, 0, 0, 0, 274]  # within 1 week, then 9 months later


def test_case_2_had_three_intraosseous_femoral_head_and_two_iv_administrations(published_series):
    given = administrations(2)
    assert Counter(a.route for a in given) == {"intraosseous": 3, "intravenous": 2}
    hips = [a for a in given if a.route == "intraosseous"]
    assert [(a.cells_millions, a.volume_ml, a.anatomical_site) for a in hips] == [
        (D("1.1"), D("1"), "both femoral heads")
    ] * 3
    assert [a.days_from_first_msc for a in hips] == [0, 61, 183]  # months 0, 2 and 6
    ivs = [a for a in given if a.route == "intravenous"]
    assert [(a.cells_millions, a.reported_dose_millions_per_kg, a.days_from_first_msc) for a in ivs] == [
        (D("60"), D("1.2"), 61),
        (D("60"), D("1.2"), 183),
    ]


def test_case_3_had_four_iv_infusions_three_over_four_days_then_one_a_year_later(published_series):
    given = administrations(3)
    assert Counter(a.route for a in given) == {"intravenous": 4}
    assert [(a.cells_millions, a.reported_dose_millions_per_kg) for a in given] == [
        (D("120"), D("1.8")),
        (D("120"), D("1.8")),
        (D("120"), D("1.8")),
        (D("120.6"), D("1.9")),
    ]
    assert [a.days_from_first_msc for a in given] == [0, 1, 3, 365]
    assert "per infusion" in given[0].source_passage  # the per-infusion vs total ambiguity is explained


def test_weight_is_never_stated_so_dose_per_kg_is_only_the_reported_one(published_series):
    for a in MscAdministration.objects.filter(product__patient__centre__code="WONG2021"):
        assert a.weight_kg is None
        assert a.computed_dose_millions_per_kg is None
        assert a.paid_by == "family"


def test_products_are_autologous_adipose_allogeneic_whartons_jelly_and_allogeneic_cord(published_series):
    products = [MscProduct.objects.get(patient=case(n)) for n in (1, 2, 3)]
    assert [(p.donor_type, p.tissue_source) for p in products] == [
        ("autologous", "adipose"),
        ("allogeneic", "whartons_jelly"),
        ("allogeneic", "umbilical_cord"),
    ]
    assert "liposuction" in products[0].harvest_procedure.lower()
    assert products[0].preparation_country == "US"
    assert "caesarean" in products[1].harvest_procedure
    assert "viability" in products[1].provider_claims
    assert [p.provider.country for p in products] == ["US", "XX", "XX"]


# ---------------------------------------------------------------- medications


def test_case_1_stopped_every_immunosuppressive_when_msc_began_without_the_team_knowing(published_series):
    stopped = courses(1, stop_days_from_first_msc=0)
    assert drugs(stopped) == sorted(
        ["methotrexate", "hydroxychloroquine", "prednisone", "leflunomide", "abatacept", "tocilizumab", "azathioprine"]
    )
    assert {(c.relation_to_msc, c.team_knew_before_stop) for c in stopped} == {("before", "no")}
    assert drugs(courses(1)) == sorted(
        [*drugs(stopped), "meloxicam", "prednisolone", "Steroid eye drops (agent not named)"]
    )


def test_case_1_is_now_on_topical_ocular_prednisolone_only(published_series):
    ongoing = courses(1, is_ongoing=True)
    assert [(c.drug, c.route, c.drug_class, c.relation_to_msc) for c in ongoing] == [
        ("prednisolone", "ocular", "gc_local", "after")
    ]


def test_case_2_kept_tocilizumab_for_two_months_then_stopped_it_herself(published_series):
    toci = courses(2).get(drug="tocilizumab")
    assert (toci.relation_to_msc, toci.is_confounder, toci.stop_days_from_first_msc) == ("concomitant", True, 61)
    assert (toci.reason_stopped, toci.stop_decided_by) == ("adverse_effect", "patient")
    assert "wrists" in toci.note
    prior = courses(2, relation_to_msc="before", reason_stopped="unknown")
    assert drugs(prior) == sorted(
        ["methotrexate", "hydroxychloroquine", "leflunomide", "mycophenolate", "rituximab", "abatacept", "belimumab"]
    )
    assert courses(2).get(drug="pamidronate").reason_stopped == "course_completed"
    assert courses(2).get(drug="prednisone").stop_days_from_first_msc == 61


def test_case_3_weaned_methotrexate_and_etanercept_on_the_transplant_physicians_instruction(published_series):
    weaned = courses(3, reason_stopped="msc_provider_instruction")
    assert [(c.drug, c.route) for c in weaned.order_by("drug")] == [
        ("etanercept", "unknown"),
        ("methotrexate", "subcutaneous"),
    ]
    assert {(c.stop_decided_by, c.team_knew_before_stop, c.relation_to_msc) for c in weaned} == {
        ("msc_provider", "no", "before")
    }
    assert [c.route for c in courses(3, drug="methotrexate").order_by("id")] == ["oral", "subcutaneous"]
    assert set(drugs(courses(3, relation_to_msc="before", drug_class="nsaid"))) == {"naproxen", "sulindac", "meloxicam"}


def test_case_3_adalimumab_was_only_recommended_so_it_is_no_course(published_series):
    assert not courses(3, drug="adalimumab").exists()
    assert "adalimumab" in courses(3).get(drug="etanercept").source_passage
    assert "pain with injections" in courses(3).get(drug="etanercept").source_passage


def test_case_3_after_msc_had_an_intra_articular_steroid_and_holistic_therapies(published_series):
    injection = courses(3, route="intra_articular").get()
    assert (injection.drug_class, injection.relation_to_msc, injection.is_confounder) == ("gc_local", "after", True)
    holistic = courses(3, drug_class="complementary")
    assert {(c.drug, c.frequency, c.relation_to_msc) for c in holistic} == {
        ("hyperbaric_oxygen", "monthly", "after"),
        ("red_light", "monthly", "after"),
        ("lymphatic_drainage", "twice weekly, in-home", "after"),
        ("pemf", "daily", "after"),
    }


def test_confounders_are_case_2_tocilizumab_and_case_3_intra_articular_steroid(published_series):
    confounders = MedicationCourse.objects.filter(patient__centre__code="WONG2021", is_confounder=True)
    assert sorted((c.patient.study_id, c.drug, c.route) for c in confounders) == [
        ("WONG2021-2", "tocilizumab", "intravenous"),
        ("WONG2021-3", "other", "intra_articular"),
    ]


# ---------------------------------------------------------------- adverse events and flares


def test_adverse_events_per_case_and_none_serious(published_series):
    events = {
        n: list(AdverseEvent.objects.filter(patient=case(n)).order_by("onset_days_from_first_msc", "id"))
        for n in (1, 2, 3)
    }
    assert [(e.category, e.onset_days_from_first_msc) for e in events[1]] == [
        ("disease_flare", 7),
        ("disease_flare", 274),
    ]
    assert [(e.category, e.duration_days) for e in events[2]] == [
        ("fatigue", 3),
        ("local_pain", 3),
        ("disease_flare", None),
    ]
    assert [(e.category, e.onset_days_from_first_msc) for e in events[3]] == [
        ("disease_flare", 35),
        ("fever_flu_like", 365),
    ]
    assert not AdverseEvent.objects.filter(patient__centre__code="WONG2021").serious().exists()


def test_case_1_flare_resolved_in_two_months_without_treatment(published_series):
    flare = AdverseEvent.objects.filter(patient=case(1)).order_by("onset_days_from_first_msc").first()
    for sign in ("arthralgia", "malar rash", "scleritis"):
        assert sign in flare.description
    assert (flare.outcome, flare.treatment, flare.duration_days) == ("recovered", "", 61)
    assert flare.administration.sequence == 5  # after the first (one-week) transplant


def test_case_2_later_skin_thickening_is_a_flare_while_refusing_conventional_therapy(published_series):
    flare = AdverseEvent.objects.get(patient=case(2), category="disease_flare")
    assert flare.outcome == "not_recovered"
    assert "10.5" in flare.description
    assert "refuse" in flare.treatment


def test_case_3_flare_was_called_a_herxheimer_reaction_by_the_transplant_physician(published_series):
    flare = AdverseEvent.objects.get(patient=case(3), category="disease_flare")
    assert flare.attributed_by == "msc_provider"
    assert "Herxheimer" in flare.attribution_note
    assert AdverseEvent.objects.get(patient=case(3), category="fever_flu_like").administration.sequence == 4


def test_every_flare_is_linked_to_the_withdrawals_that_preceded_it(published_series):
    expected = {
        1: {
            "methotrexate",
            "hydroxychloroquine",
            "prednisone",
            "leflunomide",
            "abatacept",
            "tocilizumab",
            "azathioprine",
        },
        2: {"tocilizumab", "prednisone"},
        3: {"methotrexate", "etanercept"},
    }
    for n, withdrawn in expected.items():
        flares = AdverseEvent.objects.filter(patient=case(n), category="disease_flare")
        assert flares.exists()
        for flare in flares:
            linked = list(flare.preceding_withdrawals.all())
            assert {c.drug for c in linked} == withdrawn
            for course in linked:
                assert course.patient_id == flare.patient_id
                assert course.was_stopped
                assert course.stop_days_from_first_msc <= flare.onset_days_from_first_msc
    assert (
        not AdverseEvent.objects.exclude(category="disease_flare").filter(preceding_withdrawals__isnull=False).exists()
    )


# ---------------------------------------------------------------- assessments


def before_after(n, field):
    values = Assessment.objects.filter(patient=case(n), **{f"{field}__isnull": False})
    before = [getattr(a, field) for a in values.filter(timepoint="before_msc")]
    after = [getattr(a, field) for a in values.exclude(timepoint__in=["before_msc", "other"])]
    return before, after


def test_patient_global_fell_8_to_1_7_to_2_and_6_to_1_as_family_reported(published_series):
    assert [before_after(n, "patient_global") for n in (1, 2, 3)] == [
        ([D("8")], [D("1")]),
        ([D("7")], [D("2")]),
        ([D("6")], [D("1")]),
    ]
    pga = Assessment.objects.filter(patient__centre__code="WONG2021", patient_global__isnull=False)
    assert set(pga.values_list("patient_global_source", flat=True)) == {"family_reported"}


def test_case_1_physician_global_fell_from_7_to_2(published_series):
    assert before_after(1, "physician_global") == ([D("7")], [D("2")])
    assert before_after(2, "physician_global") == ([], [])


def test_sledai_fell_from_6_to_0_in_case_1_and_from_9_to_1_in_case_2(published_series):
    assert before_after(1, "sledai2k") == ([6], [0, 0])  # 1 month after each transplant
    assert before_after(2, "sledai2k") == ([9], [1])
    sledai = Assessment.objects.filter(patient__centre__code="WONG2021", sledai2k__isnull=False)
    assert set(sledai.values_list("sledai2k_source", flat=True)) == {"team_documented"}


def test_case_3_jadas_11_to_6_comes_only_from_the_table(published_series):
    jadas = Assessment.objects.filter(patient=case(3), jadas__isnull=False).order_by("timepoint")
    assert [(a.timepoint, a.jadas, a.jadas_variant, a.abstracted_from) for a in jadas] == [
        ("after_msc", D("6"), "unspecified", "publication_table"),
        ("before_msc", D("11"), "unspecified", "publication_table"),
    ]
    table_only = Assessment.objects.filter(patient__centre__code="WONG2021", abstracted_from="publication_table")
    assert table_only.count() == 2


def test_case_2_laboratory_and_skin_values(published_series):
    values = Assessment.objects.filter(patient=case(2))
    assert values.get(mrss__isnull=False).mrss == D("10.5")
    assert values.get(mrss__isnull=False).mrss_source == "team_documented"
    assert values.get(dlco_percent_predicted__isnull=False).dlco_percent_predicted == D("41.5")
    assert values.get(bmi__isnull=False).bmi == D("18.6")
    assert (values.get(ck_u_per_l__isnull=False).ck_u_per_l, values.get(ck_u_per_l__isnull=False).ck_source) == (
        285,
        "laboratory",
    )
    assert "avascular necrosis" in values.get(ck_u_per_l__isnull=False).imaging_findings


def test_case_1_ana_fell_from_1_640_to_1_80_160(published_series):
    titres = Assessment.objects.filter(patient=case(1), ana_titre__isnull=False).order_by("id")
    assert [(a.ana_titre, a.ana_titre_comparator, a.ana_titre_upper) for a in titres] == [
        (160, "eq", None),
        (640, "eq", None),
        (80, "range", 160),
    ]
    assert set(titres.values_list("ana_source", flat=True)) == {"laboratory"}


def test_esr_normalised_after_msc_in_cases_2_and_3(published_series):
    for n in (2, 3):
        esr = Assessment.objects.filter(patient=case(n), esr_normal__isnull=False)
        assert esr.filter(timepoint__in=["before_msc", "other"], esr_normal=False).exists()
        assert esr.filter(timepoint="after_msc", esr_normal=True).exists()


def test_case_3_elbow_mri_progressed_after_msc(published_series):
    findings = list(
        Assessment.objects.filter(patient=case(3), timepoint="after_msc")
        .exclude(imaging_findings="")
        .order_by("days_from_first_msc")
        .values_list("days_from_first_msc", "imaging_source")
    )
    assert findings == [(152, "laboratory"), (456, "laboratory")]


# ---------------------------------------------------------------- provenance and loading


def test_every_record_quotes_its_source_passage(published_series):
    for model in RECORD_MODELS:
        records = list(model.objects.all())
        assert records, model.__name__
        for record in records:
            assert record.source_passage.strip(), f"{model.__name__} {record.pk}"
            assert record.abstracted_from in {"publication_text", "publication_table"}, f"{model.__name__} {record.pk}"


def test_passages_say_which_case_or_section_they_come_from(published_series):
    for model in RECORD_MODELS:
        for record in model.objects.all():
            assert record.source_passage.startswith(("Case 1", "Case 2", "Case 3", "Summary Table")), record


def test_loading_twice_creates_no_duplicates(published_series):
    first = counts()
    call_command("loaddata", "wong2021_case_series", verbosity=0)
    assert counts() == first
    assert first == {
        "Centre": 1,
        "Patient": 3,
        "PreviousDiagnosis": 5,
        "MscProvider": 3,
        "MscProduct": 3,
        "MscAdministration": 15,
        "MedicationCourse": 32,
        "AdverseEvent": 7,
        "Assessment": 23,
        "FollowUpStatus": 3,
    }
    assert AdverseEvent.preceding_withdrawals.through.objects.count() == 18


def test_each_case_is_alive_at_the_last_contact_the_paper_reports_with_its_follow_up(published_series):
    from cases.case_records import cohort_follow_up, records_of

    statuses = {s.patient.study_id: s for s in FollowUpStatus.objects.filter(patient__centre__code="WONG2021")}
    assert {k: (s.status, s.contact_age_years) for k, s in statuses.items()} == {
        "WONG2021-1": ("alive", D("17.0")),
        "WONG2021-2": ("alive", D("19.0")),
        "WONG2021-3": ("alive", D("18.0")),
    }
    assert statuses["WONG2021-2"].get_contact_offset_unit_display() == "Months"
    assert all(s.source_passage.startswith(f"Case {k[-1]}, paragraph") for k, s in statuses.items())
    cases = records_of(Patient.objects.filter(centre__code="WONG2021").order_by("study_id"))
    # Case 1: age 17 at last contact, 14 at first MSC (the table's age, see the README): 3 × 365.25 -> 1096 days.
    # Case 2: 2 years stated, stored as 730 days. Case 3: age 18, 16 at first MSC: 730.5 -> 731 days.
    assert [c.follow_up_days for c in cases] == [1096, 730, 731]
    assert cohort_follow_up(cases)["patient_years"] == D("7.0")  # 2557 / 365.25


# ---------------------------------------------------------------- the load_published_series command


def run_command():
    out = StringIO()
    call_command("load_published_series", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_command_loads_the_series_into_an_empty_database():
    output = run_command()
    assert "Loaded the published series" in output
    assert "3 cases" in output and "15 MSC administrations" in output
    assert Patient.objects.filter(centre__code="WONG2021").count() == 3


@pytest.mark.django_db
def test_command_run_twice_keeps_edits_made_after_the_first_load():
    run_command()
    edited = case(1)
    edited.family_history = "Edited through the site."
    edited.save()
    before = counts()
    output = run_command()
    assert "already loaded" in output
    assert case(1).family_history == "Edited through the site."
    assert counts() == before


@pytest.mark.django_db
def test_command_loads_into_the_centre_created_for_demo_accounts_and_keeps_its_members(django_user_model):
    centre = Centre.objects.create(code="WONG2021", name="Created by create_demo_users", country="US")
    member = django_user_model.objects.create_user(username="demo-clinician-test", password="x" * 16)
    centre.members.add(member)
    run_command()
    centre.refresh_from_db()
    assert Patient.objects.filter(centre=centre).count() == 3
    assert list(centre.members.all()) == [member]


def test_command_refuses_to_overwrite_other_rows_with_the_same_primary_keys(patient):
    MedicationCourse.objects.create(pk=1, patient=patient, drug="methotrexate", relation_to_msc="before")
    with pytest.raises(CommandError, match="overwrite"):
        run_command()
    assert MedicationCourse.objects.get(pk=1).patient == patient
    assert not Centre.objects.filter(code="WONG2021").exists()


# ---------------------------------------------------------------- what the paper supports


def test_case_2_team_did_not_know_of_her_stops_beforehand_and_learned_of_them_afterwards(published_series):
    for drug in ("tocilizumab", "prednisone"):
        course = courses(2).get(drug=drug)
        assert (course.team_knew_before_stop, course.team_learned_after_stop) == ("no", "yes")
        assert course.learned_days_from_first_msc is None  # when is not stated
        assert "did not communicate with the primary rheumatology team" in course.source_passage


def test_cohort_counts_all_three_cases_as_stopping_therapy_without_the_team_knowing_beforehand(published_series):
    numbers = cohort_numbers(Patient.objects.filter(centre__code="WONG2021"))
    assert (numbers["stopped_without_team"], numbers["stopped_team_knowledge_unknown"]) == (3, 0)


def test_case_2_earlier_dmards_have_no_stated_reason_for_stopping(published_series):
    earlier = courses(2, relation_to_msc="before").exclude(drug__in=["pamidronate", "prednisone"])
    assert len(earlier) == 7
    assert {c.reason_stopped for c in earlier} == {"unknown"}
    assert all("reason each drug was stopped is unknown" in c.source_passage for c in earlier)


def test_case_1_only_the_infusions_were_given_in_mexico(published_series):
    given = MscAdministration.objects.filter(product__patient=case(1))
    assert {(a.route, a.country.code) for a in given} == {
        ("intravenous", "MX"),
        ("intranasal", "XX"),
        ("lymph_node", "XX"),
    }
    assert not hasattr(MscProduct, "administration_country")


def test_case_2_myositis_is_qualified_by_the_muscle_strength_passage(published_series):
    sledai = Assessment.objects.get(patient=case(2), sledai2k=9)
    assert "difficult to assess the muscle strength fully" in sledai.source_passage


def test_each_case_states_no_serious_adverse_effect_in_its_own_words(published_series):
    for n in (1, 2, 3):
        statement = ChecklistStatement.objects.get(patient=case(n), item="adverse_events")
        assert "no patient had serious adverse effects such as infection, emboli" in statement.note


def test_readme_keeps_the_series_level_facts_and_lists_the_inferences():
    readme = " ".join((FIXTURE_DIR / "README.md").read_text(encoding="utf-8").split())
    for words in (
        "waived the requirement of ethics and consent approval",
        "consent for publication was obtained",
        "in two believed that their child was cured",
        "### Inferences",
        "(100 + 100)/60.5",
        "393/60.5",
        "specific autoantibody titers did not change",
        "counts three cell sources where the discussion counts two",
    ):
        assert words in readme, words
    assert "No obvious combination of the stated figures gives 3.3" not in readme
