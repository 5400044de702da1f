"""What the team knew of a stop, split in two; the country of administration kept on the administration only.

A medication course's `team_knew_of_stop` could not say whether the team knew before the stop or
only learned of it afterwards. It becomes `team_knew_before_stop` and `team_learned_after_stop`
(with when it learned, if known):

* "no": the team did not know beforehand -> knew before "no"; whether and when it learned
  afterwards is not recorded -> learned after blank.
* "yes": the team knew of the stop at some time, but not whether before it or only after it; a
  team that knew beforehand did not "learn of it afterwards", so neither new answer follows ->
  both "unknown". What the old value did say is kept in the change reason of the course's history.
* "unknown" -> both "unknown"; blank -> both blank.

A product's "country of administration" is removed: a country belongs to each administration, and
the checklist and counts fell back to the product's, counting local injections as given where the
infusions were. Each product's value is copied to those of its administrations that have no
country, so no stated country is lost; an administration that has one keeps it. Every changed
record gets a row in its audit history saying why.
"""

import django.core.validators
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


KNEW_OF_STOP = {"no": ("no", ""), "yes": ("unknown", "unknown"), "unknown": ("unknown", "unknown"), "": ("", "")}
SPLIT_REASON = "Team knowledge of the stop split into 'knew before' and 'learned afterwards'"
SPLIT_REASON_YES = SPLIT_REASON + " (was 'knew of the stop': yes, before or after not recorded)"
MOVE_REASON = "Country of administration moved from the MSC product to its administration"


def record_change(apps, record, reason, when):
    history = apps.get_model("cases", f"Historical{record.__class__.__name__}")
    values = {f.attname: getattr(record, f.attname) for f in record._meta.concrete_fields}
    history.objects.create(**values, history_date=when, history_type="~", history_change_reason=reason)


def split_and_move(apps, schema_editor):
    when = timezone.now()
    course_model = apps.get_model("cases", "MedicationCourse")
    for course in course_model._base_manager.exclude(team_knew_of_stop="").order_by("pk"):
        old = course.team_knew_of_stop
        course.team_knew_before_stop, course.team_learned_after_stop = KNEW_OF_STOP[old]
        course.save(update_fields=["team_knew_before_stop", "team_learned_after_stop"])
        record_change(apps, course, SPLIT_REASON_YES if old == "yes" else SPLIT_REASON, when)
    administration_model = apps.get_model("cases", "MscAdministration")
    for administration in (
        administration_model._base_manager.filter(country="")
        .exclude(product__administration_country="")
        .select_related("product")
        .order_by("pk")
    ):
        administration.country = administration.product.administration_country
        administration.save(update_fields=["country"])
        record_change(apps, administration, MOVE_REASON, when)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0012_convert_countries_and_provider_names"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalmedicationcourse",
            name="learned_age_years",
            field=models.DecimalField(
                blank=True,
                decimal_places=1,
                help_text="Age in years, 0-30 (one decimal).",
                max_digits=4,
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(
                        0, message="Age at team learning of the stop must be between 0 and 30."
                    ),
                    django.core.validators.MaxValueValidator(
                        30, message="Age at team learning of the stop must be between 0 and 30."
                    ),
                ],
                verbose_name="age at team learning of the stop (years)",
            ),
        ),
        migrations.AddField(
            model_name="historicalmedicationcourse",
            name="learned_date",
            field=models.DateField(
                blank=True,
                help_text="Exact date if known; for month or year precision, the first day of it.",
                null=True,
                verbose_name="team learning of the stop date",
            ),
        ),
        migrations.AddField(
            model_name="historicalmedicationcourse",
            name="learned_days_from_first_msc",
            field=models.IntegerField(
                blank=True,
                help_text="Days after the first MSC administration (negative = before it).",
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(
                        -36525,
                        message="Team learning of the stop days from first MSC must be between -36525 and 36525.",
                    ),
                    django.core.validators.MaxValueValidator(
                        36525, message="Team learning of the stop days from first MSC must be between -36525 and 36525."
                    ),
                ],
                verbose_name="team learning of the stop: days from first MSC",
            ),
        ),
        migrations.AddField(
            model_name="historicalmedicationcourse",
            name="learned_estimated",
            field=models.BooleanField(default=False, verbose_name="team learning of the stop estimated"),
        ),
        migrations.AddField(
            model_name="historicalmedicationcourse",
            name="learned_offset_unit",
            field=models.CharField(
                blank=True,
                choices=[("days", "Days"), ("weeks", "Weeks"), ("months", "Months")],
                help_text="How the time from the first MSC was given (days, weeks or months); it is shown back that way and stored in days.",
                max_length=6,
                verbose_name="team learning of the stop: unit of time from first MSC",
            ),
        ),
        migrations.AddField(
            model_name="historicalmedicationcourse",
            name="learned_precision",
            field=models.CharField(
                choices=[
                    ("day", "Exact day"),
                    ("week", "Within a week"),
                    ("month", "Month"),
                    ("year", "Year"),
                    ("unknown", "Unknown"),
                ],
                default="unknown",
                max_length=8,
                verbose_name="team learning of the stop precision",
            ),
        ),
        migrations.AddField(
            model_name="historicalmedicationcourse",
            name="team_knew_before_stop",
            field=models.CharField(
                blank=True,
                choices=[("yes", "Yes"), ("no", "No"), ("unknown", "Unknown")],
                help_text="Whether the team knew of the stop before it happened.",
                max_length=8,
                verbose_name="rheumatology team knew before the stop",
            ),
        ),
        migrations.AddField(
            model_name="historicalmedicationcourse",
            name="team_learned_after_stop",
            field=models.CharField(
                blank=True,
                choices=[("yes", "Yes"), ("no", "No"), ("unknown", "Unknown")],
                help_text="Whether the team learned of the stop only after it; say when below if known.",
                max_length=8,
                verbose_name="rheumatology team learned of it afterwards",
            ),
        ),
        migrations.AddField(
            model_name="medicationcourse",
            name="learned_age_years",
            field=models.DecimalField(
                blank=True,
                decimal_places=1,
                help_text="Age in years, 0-30 (one decimal).",
                max_digits=4,
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(
                        0, message="Age at team learning of the stop must be between 0 and 30."
                    ),
                    django.core.validators.MaxValueValidator(
                        30, message="Age at team learning of the stop must be between 0 and 30."
                    ),
                ],
                verbose_name="age at team learning of the stop (years)",
            ),
        ),
        migrations.AddField(
            model_name="medicationcourse",
            name="learned_date",
            field=models.DateField(
                blank=True,
                help_text="Exact date if known; for month or year precision, the first day of it.",
                null=True,
                verbose_name="team learning of the stop date",
            ),
        ),
        migrations.AddField(
            model_name="medicationcourse",
            name="learned_days_from_first_msc",
            field=models.IntegerField(
                blank=True,
                help_text="Days after the first MSC administration (negative = before it).",
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(
                        -36525,
                        message="Team learning of the stop days from first MSC must be between -36525 and 36525.",
                    ),
                    django.core.validators.MaxValueValidator(
                        36525, message="Team learning of the stop days from first MSC must be between -36525 and 36525."
                    ),
                ],
                verbose_name="team learning of the stop: days from first MSC",
            ),
        ),
        migrations.AddField(
            model_name="medicationcourse",
            name="learned_estimated",
            field=models.BooleanField(default=False, verbose_name="team learning of the stop estimated"),
        ),
        migrations.AddField(
            model_name="medicationcourse",
            name="learned_offset_unit",
            field=models.CharField(
                blank=True,
                choices=[("days", "Days"), ("weeks", "Weeks"), ("months", "Months")],
                help_text="How the time from the first MSC was given (days, weeks or months); it is shown back that way and stored in days.",
                max_length=6,
                verbose_name="team learning of the stop: unit of time from first MSC",
            ),
        ),
        migrations.AddField(
            model_name="medicationcourse",
            name="learned_precision",
            field=models.CharField(
                choices=[
                    ("day", "Exact day"),
                    ("week", "Within a week"),
                    ("month", "Month"),
                    ("year", "Year"),
                    ("unknown", "Unknown"),
                ],
                default="unknown",
                max_length=8,
                verbose_name="team learning of the stop precision",
            ),
        ),
        migrations.AddField(
            model_name="medicationcourse",
            name="team_knew_before_stop",
            field=models.CharField(
                blank=True,
                choices=[("yes", "Yes"), ("no", "No"), ("unknown", "Unknown")],
                help_text="Whether the team knew of the stop before it happened.",
                max_length=8,
                verbose_name="rheumatology team knew before the stop",
            ),
        ),
        migrations.AddField(
            model_name="medicationcourse",
            name="team_learned_after_stop",
            field=models.CharField(
                blank=True,
                choices=[("yes", "Yes"), ("no", "No"), ("unknown", "Unknown")],
                help_text="Whether the team learned of the stop only after it; say when below if known.",
                max_length=8,
                verbose_name="rheumatology team learned of it afterwards",
            ),
        ),
        migrations.AddConstraint(
            model_name="medicationcourse",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("learned_age_years__isnull", True),
                    models.Q(("learned_age_years__gte", 0), ("learned_age_years__lte", 30)),
                    _connector="OR",
                ),
                name="medicationcourse_learned_age_between_0_and_30",
                violation_error_message="Learned age years must be between 0 and 30.",
            ),
        ),
        migrations.AddConstraint(
            model_name="medicationcourse",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("learned_days_from_first_msc__isnull", True),
                    models.Q(("learned_days_from_first_msc__gte", -36525), ("learned_days_from_first_msc__lte", 36525)),
                    _connector="OR",
                ),
                name="medicationcourse_learned_offset_within_100_years",
                violation_error_message="Learned days from first msc must be between -36525 and 36525.",
            ),
        ),
        migrations.AddConstraint(
            model_name="medicationcourse",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("learned_days_from_first_msc__isnull", True), ("learned_offset_unit", "")),
                    models.Q(
                        ("learned_days_from_first_msc__isnull", False),
                        models.Q(("learned_offset_unit", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="medicationcourse_learned_offset_unit_given_with_offset",
                violation_error_message="Give the unit of the time from the first MSC (days, weeks or months), and only with that time.",
            ),
        ),
        migrations.AddConstraint(
            model_name="medicationcourse",
            constraint=models.CheckConstraint(
                condition=models.Q(("team_knew_before_stop", "yes"), ("team_learned_after_stop", "yes"), _negated=True),
                name="team_knew_before_or_learned_after",
                violation_error_message="The team either knew before the stop or learned of it afterwards, not both.",
            ),
        ),
        migrations.AddConstraint(
            model_name="medicationcourse",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("team_learned_after_stop", "yes"),
                    models.Q(
                        ("learned_date__isnull", True),
                        ("learned_age_years__isnull", True),
                        ("learned_days_from_first_msc__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="learning_time_only_when_learned_after",
                violation_error_message="Give when the team learned of the stop only if it learned of it afterwards.",
            ),
        ),
        migrations.RunPython(split_and_move, migrations.RunPython.noop),
    ]
