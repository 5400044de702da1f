"""Reading the times of records, which the sources give at mixed precision.

A time is any of a date, an age and an offset in days from the first MSC administration. The
first administration is the case's anchor: from it, an age gives an offset and an offset gives an
age, so de-identified exports can show every time as age and days/months from the first MSC.
An offset keeps the unit it was given in (days, weeks or months) and is read back in it.
"""

from dataclasses import dataclass
from datetime import date as Date
from decimal import ROUND_HALF_UP, Decimal

from .models.common import DAYS_PER_MONTH, DAYS_PER_UNIT, DAYS_PER_YEAR, TimingUnit, plain_number


@dataclass(frozen=True)
class Moment:
    date: Date | None = None
    age_years: Decimal | None = None
    days_from_first_msc: int | None = None
    offset_unit: str = ""
    precision: str = "unknown"
    estimated: bool = False

    @staticmethod
    def fields(prefix=""):
        """The names of a record's fields for one moment (see cases.models.common.timing), in the
        order of Moment's own fields."""
        if not prefix:
            return ("date", "age_years", "days_from_first_msc", "offset_unit", "timing_precision", "timing_estimated")
        p = f"{prefix}_"
        return (
            f"{p}date",
            f"{p}age_years",
            f"{p}days_from_first_msc",
            f"{p}offset_unit",
            f"{p}precision",
            f"{p}estimated",
        )

    @classmethod
    def of(cls, record, prefix=""):
        return cls(*(getattr(record, name) for name in cls.fields(prefix)))

    @property
    def is_known(self):
        return any(v is not None for v in (self.date, self.age_years, self.days_from_first_msc))


def days_in(amount, unit):
    """Days from an amount of days, weeks or months: the value stored, to the nearest day."""
    return int((Decimal(amount) * DAYS_PER_UNIT[unit]).to_integral_value(ROUND_HALF_UP))


def amount_in(days, unit):
    """Days read back in a unit: whole days; weeks and months to one decimal, so that a whole or
    one-decimal number of months given (and stored to the nearest day) reads back as given."""
    if unit == TimingUnit.DAYS:
        return Decimal(days)
    return (Decimal(days) / DAYS_PER_UNIT[unit]).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


UNIT_WORD = {TimingUnit.DAYS: "day", TimingUnit.WEEKS: "week", TimingUnit.MONTHS: "month"}


def first_msc(administrations):
    """The anchor: the administration numbered first (or the earliest by offset, then date)."""
    administrations = list(administrations)
    if not administrations:
        return None
    return Moment.of(min(administrations, key=lambda a: (a.sequence, a.days_from_first_msc or 0)))


def days_from_first_msc(moment, anchor):
    """Days after the first MSC administration, from whichever facts are known."""
    if moment.days_from_first_msc is not None:
        return moment.days_from_first_msc
    if anchor is None:
        return None
    if moment.date and anchor.date:
        return (moment.date - anchor.date).days
    if moment.age_years is not None and anchor.age_years is not None:
        return int(((moment.age_years - anchor.age_years) * DAYS_PER_YEAR).to_integral_value(ROUND_HALF_UP))
    return None


def months_from_first_msc(moment, anchor):
    days = days_from_first_msc(moment, anchor)
    if days is None:
        return None
    return (Decimal(days) / DAYS_PER_MONTH).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def age_at(moment, anchor):
    """Age in years, to one decimal, from the moment itself or from the anchor's age and offset."""
    if moment.age_years is not None:
        return moment.age_years
    if anchor is None or anchor.age_years is None:
        return None
    days = days_from_first_msc(moment, anchor)
    if days is None:
        return None
    anchor_days = anchor.days_from_first_msc or 0
    age = anchor.age_years + Decimal(days - anchor_days) / DAYS_PER_YEAR
    return age.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def describe(moment):
    """A short human reading: '2019-03', 'age 16', 'month 4 after first MSC' (in the unit the time was
    given in), '~' when estimated."""
    parts = []
    if moment.date:
        fmt = {"year": "%Y", "month": "%Y-%m"}.get(moment.precision, "%Y-%m-%d")
        parts.append(moment.date.strftime(fmt))
    if moment.age_years is not None:
        parts.append(f"age {plain_number(moment.age_years)}")
    if moment.days_from_first_msc is not None:
        days = moment.days_from_first_msc
        if days == 0:
            parts.append("day of first MSC")
        elif moment.offset_unit in UNIT_WORD:
            amount = plain_number(amount_in(abs(days), moment.offset_unit))
            parts.append(f"{UNIT_WORD[moment.offset_unit]} {amount} {'after' if days > 0 else 'before'} first MSC")
        elif abs(days) >= 60:
            months = (Decimal(abs(days)) / DAYS_PER_MONTH).quantize(Decimal("0.1"))
            parts.append(f"{plain_number(months)} months {'after' if days > 0 else 'before'} first MSC")
        else:
            parts.append(f"day {days:+d} from first MSC")
    if not parts:
        return "time unknown"
    return ("~" if moment.estimated else "") + ", ".join(parts)


@dataclass(frozen=True)
class AgeAtFirstMsc:
    years: Decimal
    source: str  # where it comes from, in words


def age_at_first_msc(anchor, stated, others):
    """The age at the first MSC administration, from the first of:

    1. the first administration's own age;
    2. the age stated on the case (`stated`), asked for when no record gives it;
    3. another record's age with its time from the first MSC, given as an offset or as a date
       against the first administration's date. `others` are (label, Moment) pairs; the record
       nearest the first MSC is used, one with an exact time before an estimated one.
    """
    if anchor is not None and anchor.age_years is not None:
        return AgeAtFirstMsc(anchor.age_years, "recorded on the first MSC administration")
    if stated is not None:
        return AgeAtFirstMsc(stated, "stated on the case")
    found = []
    for label, moment in others:
        days = days_from_first_msc(moment, anchor) if moment.age_years is not None else None
        if days is not None:
            found.append((moment.estimated, abs(days), label, moment, days))
    if not found:
        return None
    *_, label, moment, days = min(found, key=lambda item: item[:2])
    anchor_days = (anchor.days_from_first_msc or 0) if anchor is not None else 0
    years = moment.age_years - Decimal(days - anchor_days) / DAYS_PER_YEAR
    years = years.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    when = describe(Moment(days_from_first_msc=days - anchor_days, offset_unit=moment.offset_unit))
    return AgeAtFirstMsc(years, f"derived from {label}: age {plain_number(moment.age_years)}, {when}")
