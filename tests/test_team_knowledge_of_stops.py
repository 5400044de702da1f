"""Whether the rheumatology team knew of a stopped therapy is two questions: did it know before the
stop, and did it learn of it afterwards (and when). The cohort shows a case whose answer is not
recorded as unknown, never as known; existing answers are migrated without claiming more than they said."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from cases.models import MedicationCourse
from cases.reports.cohort import cohort_numbers
from tests.factories import MedicationCourseFactory, PatientFactory

BEFORE_SPLIT = [("cases", "0012_convert_countries_and_provider_names")]


def stopped_course(patient, **answers):
    return MedicationCourseFactory(
        patient=patient, stop_age_years=Decimal("13"), reason_stopped="family_decision", **answers
    )


@pytest.mark.django_db
def test_team_cannot_both_know_before_the_stop_and_learn_of_it_afterwards():
    course = MedicationCourseFactory.build(
        patient=PatientFactory(), team_knew_before_stop="yes", team_learned_after_stop="yes"
    )
    with pytest.raises(ValidationError) as error:
        course.full_clean()
    assert "team_learned_after_stop" in error.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        course.save()


@pytest.mark.django_db
def test_when_the_team_learned_is_given_only_if_it_learned_afterwards():
    course = MedicationCourseFactory.build(
        patient=PatientFactory(), team_learned_after_stop="unknown", learned_days_from_first_msc=30
    )
    with pytest.raises(ValidationError) as error:
        course.full_clean()
    assert "learned_days_from_first_msc" in error.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        course.save()
    course.team_learned_after_stop = "yes"
    course.full_clean()
    course.save()
    assert MedicationCourse.objects.get().get_learned_offset_unit_display() == "Days"


@pytest.mark.django_db
def test_cohort_shows_a_stop_with_unknown_team_knowledge_as_unknown_not_as_known():
    did_not_know, not_recorded, unknown, knew = (PatientFactory() for _ in range(4))
    stopped_course(did_not_know, team_knew_before_stop="no", team_learned_after_stop="yes")
    stopped_course(not_recorded)
    stopped_course(unknown, team_knew_before_stop="unknown")
    stopped_course(knew, team_knew_before_stop="yes", team_learned_after_stop="no")
    numbers = cohort_numbers([did_not_know, not_recorded, unknown, knew])
    assert (numbers["stopped_without_team"], numbers["stopped_team_knowledge_unknown"]) == (1, 2)


@pytest.fixture
def before_split(transactional_db):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_SPLIT)
    yield executor.loader.project_state(BEFORE_SPLIT).apps
    call_command("flush", verbosity=0, interactive=False)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_old_answers_become_knew_before_and_learned_after_without_claiming_more(before_split):
    centre = before_split.get_model("registry", "Centre").objects.create(code="SYN-K", name="Synthetic", country="XX")
    patient = before_split.get_model("cases", "Patient").objects.create(
        centre=centre, study_id="SYN-K-1", abstracted_from="synthetic"
    )
    old = before_split.get_model("cases", "MedicationCourse")
    for answer in ("no", "yes", "unknown", ""):
        old.objects.create(
            patient=patient,
            drug="other",
            drug_detail=answer or "blank",
            relation_to_msc="before",
            team_knew_of_stop=answer,
            abstracted_from="synthetic",
        )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    split = {
        c.drug_detail: (c.team_knew_before_stop, c.team_learned_after_stop) for c in MedicationCourse.objects.all()
    }
    assert split == {
        "no": ("no", ""),
        "yes": ("unknown", "unknown"),
        "unknown": ("unknown", "unknown"),
        "blank": ("", ""),
    }
    was_yes = MedicationCourse.objects.get(drug_detail="yes")
    assert "was 'knew of the stop': yes" in was_yes.history.latest().history_change_reason
