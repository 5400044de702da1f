"""Times given as dates, ages or offsets from the first MSC are read into age and offset."""

from datetime import date
from decimal import Decimal

from cases.timing import Moment, age_at, days_from_first_msc, describe, first_msc, months_from_first_msc

ANCHOR = Moment(date=date(2018, 3, 1), age_years=Decimal("16.0"), days_from_first_msc=0)


def test_offset_is_taken_as_given():
    assert days_from_first_msc(Moment(days_from_first_msc=35), ANCHOR) == 35


def test_offset_from_dates_when_both_dates_known():
    assert days_from_first_msc(Moment(date=date(2018, 4, 5)), ANCHOR) == 35


def test_offset_from_ages_when_only_ages_known():
    assert days_from_first_msc(Moment(age_years=Decimal("17.0")), ANCHOR) == 365


def test_age_derived_from_anchor_age_and_offset():
    assert age_at(Moment(days_from_first_msc=730), ANCHOR) == Decimal("18.0")


def test_months_from_first_msc():
    assert months_from_first_msc(Moment(days_from_first_msc=274), ANCHOR) == Decimal("9.0")


def test_unknown_stays_unknown_without_anchor():
    assert days_from_first_msc(Moment(age_years=Decimal("12")), None) is None
    assert age_at(Moment(days_from_first_msc=10), None) is None


def test_anchor_is_the_first_administration(db):
    from tests.factories import MscAdministrationFactory

    second = MscAdministrationFactory(sequence=2, age_years=Decimal("15.0"), days_from_first_msc=270)
    first = MscAdministrationFactory(
        product=second.product, sequence=1, age_years=Decimal("14.3"), days_from_first_msc=0
    )
    assert first_msc([second, first]).age_years == first.age_years


def test_describe_reads_like_a_clinician():
    assert describe(Moment(days_from_first_msc=35, estimated=True)) == "~day +35 from first MSC"
    assert describe(Moment(days_from_first_msc=274)) == "9 months after first MSC"
    assert describe(Moment(age_years=Decimal("16.0"))) == "age 16"
    assert describe(Moment()) == "time unknown"
