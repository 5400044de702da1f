"""Vocabularies, validators and the timing building block shared by every clinical record."""

from decimal import Decimal

from concurrency.fields import AutoIncVersionField
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from simple_history.models import HistoricalRecords

DAYS_PER_MONTH = Decimal("30.4375")
DAYS_PER_YEAR = Decimal("365.25")


def plain_number(value):
    """Decimal('16.0') -> '16', Decimal('120.60') -> '120.6': numbers as a clinician writes them."""
    return f"{value.normalize():f}" if hasattr(value, "normalize") else str(value)


def between(low, high, what):
    """Validators for a closed range, with a message a clinician reads next to the field."""
    message = f"{what} must be between {low} and {high}."
    return [MinValueValidator(low, message=message), MaxValueValidator(high, message=message)]


def positive(what):
    return [StrictlyPositiveValidator(what)]


def non_negative(what):
    return [MinValueValidator(0, message=f"{what} cannot be negative.")]


@deconstructible
class StrictlyPositiveValidator:
    """MinValueValidator is inclusive; cells, weights and doses must be strictly above zero."""

    def __init__(self, what):
        self.what = what

    def __call__(self, value):
        if value is not None and value <= 0:
            raise ValidationError(f"{self.what} must be greater than 0.", code="not_positive")

    def __eq__(self, other):
        return isinstance(other, StrictlyPositiveValidator) and other.what == self.what


def range_check(field, low, high, name):
    """The database half of `between`: NULL (not recorded) passes, anything outside the range fails."""
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": low, f"{field}__lte": high}),
        name=name,
        violation_error_message=f"{field.replace('_', ' ').capitalize()} must be between {low} and {high}.",
    )


def positive_check(field, name, strictly=True):
    lookup = "gt" if strictly else "gte"
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__{lookup}": 0}),
        name=name,
        violation_error_message=f"{field.replace('_', ' ').capitalize()} must be greater than 0."
        if strictly
        else f"{field.replace('_', ' ').capitalize()} cannot be negative.",
    )


class YesNoUnknown(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    UNKNOWN = "unknown", "Unknown"


def yes_no_unknown(verbose_name, **kwargs):
    """A question that starts unanswered (blank): 'Unknown' is then an explicit answer, never a default."""
    return models.CharField(verbose_name, max_length=8, choices=YesNoUnknown.choices, blank=True, default="", **kwargs)


class TestResult(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEGATIVE = "negative", "Negative"
    NOT_TESTED = "not_tested", "Not tested"
    UNKNOWN = "unknown", "Unknown"


class RecordSource(models.TextChoices):
    """Where an abstracted record came from, so a reader knows what was documented."""

    MEDICAL_RECORD = "medical_record", "Centre's medical record"
    PUBLICATION_TEXT = "publication_text", "Publication: case text"
    PUBLICATION_TABLE = "publication_table", "Publication: table"
    PROVIDER_DOCUMENT = "provider_document", "MSC provider's documents"
    FAMILY_INTERVIEW = "family_interview", "Family interview"
    SYNTHETIC = "synthetic", "Synthetic (generated, not a real patient)"


class ValueSource(models.TextChoices):
    """Who observed a value: the paper stresses benefit was 'reported rather than documented'."""

    FAMILY_REPORTED = "family_reported", "Reported by patient or family"
    TEAM_DOCUMENTED = "team_documented", "Documented by the rheumatology team"
    LABORATORY = "laboratory", "Measured by a laboratory or imaging"
    PROVIDER_REPORTED = "provider_reported", "Reported by the MSC provider"
    UNKNOWN = "unknown", "Unknown"


class TimingPrecision(models.TextChoices):
    DAY = "day", "Exact day"
    WEEK = "week", "Within a week"
    MONTH = "month", "Month"
    YEAR = "year", "Year"
    UNKNOWN = "unknown", "Unknown"


class TimingUnit(models.TextChoices):
    """The unit a time from the first MSC was given in. It is stored in days and shown back in this
    unit, so '4 months' reads 'month 4', not '3.9 months'."""

    DAYS = "days", "Days"
    WEEKS = "weeks", "Weeks"
    MONTHS = "months", "Months"


#: Days in one of each unit: the one conversion between days and weeks or months.
DAYS_PER_UNIT = {TimingUnit.DAYS: Decimal(1), TimingUnit.WEEKS: Decimal(7), TimingUnit.MONTHS: DAYS_PER_MONTH}


class Currency(models.TextChoices):
    USD = "USD", "US dollar"
    EUR = "EUR", "Euro"
    GBP = "GBP", "Pound sterling"
    MXN = "MXN", "Mexican peso"
    CAD = "CAD", "Canadian dollar"
    OTHER = "XXX", "Other"


def audit_history(**kwargs):
    """The audit trail of a model: every create, change and delete, with user, time and reason."""
    return HistoricalRecords(cascade_delete_history=False, **kwargs)


class Versioned(models.Model):
    """Optimistic locking (django-concurrency): a save made from a stale copy is refused."""

    version = AutoIncVersionField(help_text="Revision number; a save from an older revision is refused.")

    class Meta:
        abstract = True


class Withdrawable(models.Model):
    """Submitted records are never deleted: they are withdrawn, with a reason, and can be restored.

    The default manager (`objects`) hides withdrawn records; `all_objects` shows them to admins.
    """

    withdrawn_at = models.DateTimeField(null=True, blank=True, editable=False)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )
    withdrawal_reason = models.TextField(blank=True, editable=False)

    class Meta:
        abstract = True

    def get_absolute_url(self):
        """The record's row on its case's page (the anchors come from cases.kinds)."""
        from cases.kinds import kind_of

        return f"{self.case.get_absolute_url()}#{kind_of(self).anchor(self)}"

    @property
    def case(self):
        """The case this record belongs to (the case itself for a Patient)."""
        record = self
        for step in filter(None, type(self).all_objects.get_queryset().case_path.split("__")):
            record = getattr(record, step)
        return record

    def get_edit_url(self):
        from cases.kinds import edit_url

        return edit_url(self)

    @property
    def is_withdrawn(self):
        return self.withdrawn_at is not None

    def withdraw(self, user, reason):
        self.withdrawn_at, self.withdrawn_by, self.withdrawal_reason = timezone.now(), user, reason
        self._change_reason = f"Withdrawn: {reason}"
        self.save()

    def restore(self, user, reason):
        self.withdrawn_at, self.withdrawn_by, self.withdrawal_reason = None, None, ""
        self._change_reason = f"Restored by {user.get_username()}: {reason}"
        self.save()


def withdrawal_check(model):
    return models.CheckConstraint(
        condition=Q(withdrawn_at__isnull=True) | ~Q(withdrawal_reason=""),
        name=f"{model}_withdrawal_has_reason",
        violation_error_message="Give the reason for withdrawing.",
    )


class Abstracted(models.Model):
    """Every clinical record says where it was abstracted from and the passage that supports it."""

    abstracted_from = models.CharField(max_length=24, choices=RecordSource.choices, default=RecordSource.MEDICAL_RECORD)
    source_passage = models.TextField(
        blank=True, help_text="Where the value comes from, e.g. 'Case 1, paragraph 3: ...'."
    )

    class Meta:
        abstract = True


def timing(prefix, label):
    """An abstract model holding one point in time at the precision the source gives.

    The paper gives ages and months after the first MSC treatment, rarely dates, so a time is any
    of: a date, an age, an offset in days from the first MSC administration, each optional, with
    a precision and an 'estimated' flag. `cases.timing` derives the missing ones for exports.
    The offset keeps the unit it was given in (days, weeks or months) so it is shown back that way;
    an offset saved without one was given in days, as its field says, and a unit without an offset
    is dropped, so that the unit is set exactly when the offset is.
    """
    p = f"{prefix}_" if prefix else ""
    offset, unit = f"{p}days_from_first_msc", f"{p}offset_unit"
    precision = f"{p}precision" if prefix else "timing_precision"
    estimated = f"{p}estimated" if prefix else "timing_estimated"
    cap = label.capitalize()
    attrs = {
        "__module__": __name__,
        f"{p}date": models.DateField(
            f"{label} date",
            null=True,
            blank=True,
            help_text="Exact date if known; for month or year precision, the first day of it.",
        ),
        f"{p}age_years": models.DecimalField(
            f"age at {label} (years)",
            max_digits=4,
            decimal_places=1,
            null=True,
            blank=True,
            validators=between(0, 30, f"Age at {label}" if prefix else "Age"),
            help_text="Age in years, 0-30 (one decimal).",
        ),
        f"{p}days_from_first_msc": models.IntegerField(
            f"{label}: days from first MSC",
            null=True,
            blank=True,
            validators=between(-36525, 36525, f"{cap} days from first MSC" if prefix else "Days from first MSC"),
            help_text="Days after the first MSC administration (negative = before it).",
        ),
        unit: models.CharField(
            f"{label}: unit of time from first MSC",
            max_length=6,
            choices=TimingUnit.choices,
            blank=True,
            help_text="How the time from the first MSC was given (days, weeks or months); it is shown back "
            "that way and stored in days.",
        ),
        precision: models.CharField(
            f"{label} precision",
            max_length=8,
            choices=TimingPrecision.choices,
            default=TimingPrecision.UNKNOWN,
        ),
        estimated: models.BooleanField(f"{label} estimated", default=False),
        "Meta": type("Meta", (), {"abstract": True}),
    }
    block = type(f"{cap.replace(' ', '')}Timing", (models.Model,), attrs)

    def match_unit_to_offset(record):
        if getattr(record, offset) is None:
            setattr(record, unit, "")
        elif not getattr(record, unit):
            setattr(record, unit, TimingUnit.DAYS)

    def clean_fields(self, exclude=None):
        match_unit_to_offset(self)
        super(block, self).clean_fields(exclude=exclude)

    def save(self, *args, **kwargs):
        match_unit_to_offset(self)
        super(block, self).save(*args, **kwargs)

    block.clean_fields, block.save = clean_fields, save
    return block


OnsetTiming = timing("onset", "onset")
StartTiming = timing("start", "start")
StopTiming = timing("stop", "stop")
LearnedTiming = timing("learned", "team learning of the stop")
PointTiming = timing("", "time")
ContactTiming = timing("contact", "last contact")
DeathTiming = timing("death", "death")


def timing_checks(model, *prefixes):
    """Database ranges for the timings of a model (constraint names must be unique per model)."""
    checks = []
    for p in prefixes:
        field = f"{p}_" if p else ""
        name = f"{model}_{p or 'time'}"
        checks += [
            range_check(f"{field}age_years", 0, 30, f"{name}_age_between_0_and_30"),
            range_check(f"{field}days_from_first_msc", -36525, 36525, f"{name}_offset_within_100_years"),
            models.CheckConstraint(
                condition=Q(**{f"{field}days_from_first_msc__isnull": True, f"{field}offset_unit": ""})
                | (Q(**{f"{field}days_from_first_msc__isnull": False}) & ~Q(**{f"{field}offset_unit": ""})),
                name=f"{name}_offset_unit_given_with_offset",
                violation_error_message="Give the unit of the time from the first MSC (days, weeks or months), "
                "and only with that time.",
            ),
        ]
    return checks


def not_before(later, earlier, name, message):
    """A 'stop not before start' constraint over each of date, age and offset when both are known."""
    condition = Q()
    for suffix in ("date", "age_years", "days_from_first_msc"):
        a, b = f"{later}_{suffix}", f"{earlier}_{suffix}"
        condition &= Q(**{f"{a}__isnull": True}) | Q(**{f"{b}__isnull": True}) | Q(**{f"{a}__gte": models.F(b)})
    return models.CheckConstraint(condition=condition, name=name, violation_error_message=message)
