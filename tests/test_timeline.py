"""The case timeline draws what the records say and nothing they do not: a record without a time
sits in the 'time unknown' band, never at a guessed time on the axis."""

import re
import xml.etree.ElementTree as ET
from decimal import Decimal as D

import pytest

from cases.case_records import records_of
from cases.models import Patient
from cases.reports import figures
from tests.factories import (
    AdverseEventFactory,
    AssessmentFactory,
    MedicationCourseFactory,
    MscAdministrationFactory,
    MscProductFactory,
    PatientFactory,
)

SVG = "{http://www.w3.org/2000/svg}"


def timeline(patient):
    return ET.fromstring(str(figures.case_timeline(*records_of(Patient.objects.filter(pk=patient.pk)))))


def marks(svg, *classes):
    """(element, title) of every element whose class holds all the given classes."""
    found = []
    for element in svg.iter():
        if set(classes) <= set(element.get("class", "").split()):
            title = element.find(f"{SVG}title")
            found.append((element, title.text if title is not None else ""))
    return found


def band(svg):
    ((rect, _),) = marks(svg, "band", "time-unknown")
    left = float(rect.get("x"))
    return left, left + float(rect.get("width"))


def x_of(element):
    if element.get("cx") is not None:
        return float(element.get("cx"))
    if element.get("x") is not None:
        return float(element.get("x")) + float(element.get("width")) / 2
    xs = [float(p.split(",")[0]) for p in element.get("points").split()]
    return sum(xs) / len(xs)


@pytest.fixture
def case(centre):
    """MSC at age 13; a baseline and an 'after MSC' assessment, neither with a time; one at 13.5."""
    patient = PatientFactory(centre=centre)
    MscAdministrationFactory(product=MscProductFactory(patient=patient), age_years=D("13"))
    AssessmentFactory(patient=patient, timepoint="before_msc", age_years=None, patient_global=8, physician_global=7)
    AssessmentFactory(patient=patient, timepoint="after_msc", age_years=None, patient_global=3)
    AssessmentFactory(patient=patient, timepoint="after_msc", age_years=D("13.5"), patient_global=2, physician_global=1)
    return patient


def test_score_without_a_time_is_in_the_time_unknown_band_not_at_a_made_up_month(case):
    svg = timeline(case)
    left, right = band(svg)
    ((baseline, title),) = [(e, t) for e, t in marks(svg, "point", "pga") if " 8" in t]
    assert title == "Patient global (0-10) 8, before MSC, time unknown"
    assert left <= x_of(baseline) <= right
    assert not any(re.search(r"months", t) for e, t in marks(svg, "point", "pga") if " 8" in t)


def test_after_msc_score_without_a_time_is_plotted(case):
    svg = timeline(case)
    left, right = band(svg)
    ((after, title),) = [(e, t) for e, t in marks(svg, "point", "pga") if " 3" in t]
    assert title == "Patient global (0-10) 3, after MSC, time unknown"
    assert left <= x_of(after) <= right
    ((baseline, _),) = [(e, t) for e, t in marks(svg, "point", "pga") if " 8" in t]
    assert x_of(baseline) < x_of(after)  # before MSC left of after MSC within the band


def test_timed_score_stays_on_the_axis(case):
    svg = timeline(case)
    left, _ = band(svg)
    ((timed, title),) = [(e, t) for e, t in marks(svg, "point", "pga") if " 2" in t]
    assert title == "Patient global (0-10) 2 at 6.0 months"
    assert x_of(timed) < left


def test_physician_global_is_plotted(case):
    titles = sorted(t for _, t in marks(timeline(case), "point", "physician-global"))
    assert titles == ["Physician global (0-10) 1 at 6.0 months", "Physician global (0-10) 7, before MSC, time unknown"]


def test_therapy_without_times_is_shown_and_a_flare_names_the_withdrawal_before_it(case):
    course = MedicationCourseFactory(
        patient=case, drug="tocilizumab", start_age_years=None, reason_stopped="family_decision"
    )
    flare = AdverseEventFactory(
        patient=case, description="synthetic arthritis flare", category="disease_flare", onset_days_from_first_msc=60
    )
    flare.preceding_withdrawals.add(course)
    svg = timeline(case)
    left, right = band(svg)
    ((bar, title),) = marks(svg, "bar", "course", "time-unknown")
    assert title == "Tocilizumab (before msc): stopped, time unknown"
    assert left <= x_of(bar) <= right
    ((_, flare_title),) = marks(svg, "mark", "event")
    assert flare_title.endswith("after stopping Tocilizumab (before msc)")


def test_administration_and_event_without_a_time_are_in_the_band(case):
    MscAdministrationFactory(product=case.products.get(), sequence=2, age_years=None)
    AdverseEventFactory(patient=case, description="synthetic headache")
    svg = timeline(case)
    left, right = band(svg)
    ((admin, _),) = marks(svg, "mark", "administration", "time-unknown")
    ((event, title),) = marks(svg, "mark", "event", "time-unknown")
    assert left <= x_of(admin) <= right and left <= x_of(event) <= right
    assert "time unknown" in title
