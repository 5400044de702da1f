"""Each adverse event answers its ICH E2A seriousness; expectedness and attribution to stopping therapy.

Seriousness used to be read off six criteria that default to unticked, so an event nobody assessed
read as 'not serious'. It becomes an explicit answer:

* an event with any criterion ticked -> "serious" (the criteria say so);
* every other event -> blank, unanswered. It is never guessed "not serious": the case cannot be
  submitted until someone answers, and the data-quality rules say which events are unanswered.

Each event given "serious" gets a row in its audit history saying why.
"""

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


REASON = "Seriousness answered 'serious' from the ICH E2A criteria already ticked"


def record_change(apps, record, reason, when):
    history = apps.get_model("cases", f"Historical{record.__class__.__name__}")
    values = {f.attname: getattr(record, f.attname) for f in record._meta.concrete_fields}
    history.objects.create(**values, history_date=when, history_type="~", history_change_reason=reason)


def serious_from_criteria(apps, schema_editor):
    when = timezone.now()
    event_model = apps.get_model("cases", "AdverseEvent")
    criteria = models.Q()
    for name in CRITERIA:
        criteria |= models.Q(**{name: True})
    for event in event_model._base_manager.filter(criteria).order_by("pk"):
        event.seriousness = "serious"
        event.save(update_fields=["seriousness"])
        record_change(apps, event, REASON, when)


CRITERIA = (
    "resulted_in_death",
    "life_threatening",
    "required_hospitalisation",
    "persistent_disability",
    "congenital_anomaly",
    "medically_important",
)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0018_serious_adverse_events_answer'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='adverseevent',
            name='attribution_to_withdrawal',
            field=models.CharField(choices=[('unrelated', 'Unrelated'), ('unlikely', 'Unlikely'), ('possible', 'Possible'), ('probable', 'Probable'), ('definite', 'Definite'), ('not_assessed', 'Not assessed')], default='not_assessed', help_text='Separately from the MSC: whether stopping a conventional medication caused it (e.g. a flare).', max_length=16, verbose_name='attribution to stopping conventional therapy'),
        ),
        migrations.AddField(
            model_name='adverseevent',
            name='expectedness',
            field=models.CharField(blank=True, choices=[('expected', 'Expected'), ('unexpected', 'Unexpected'), ('unknown', 'Unknown')], help_text='Against the reference safety information named below.', max_length=12),
        ),
        migrations.AddField(
            model_name='adverseevent',
            name='expectedness_reference',
            field=models.CharField(blank=True, help_text="e.g. 'no reference safety information: unlicensed product', or the product's brochure.", max_length=300, verbose_name='expectedness judged against'),
        ),
        migrations.AddField(
            model_name='adverseevent',
            name='seriousness',
            field=models.CharField(blank=True, choices=[('serious', 'Serious'), ('not_serious', 'Not serious'), ('unknown', 'Unknown')], help_text="ICH E2A: serious when a criterion below is met; 'Unknown' when the source does not say. Blank only on records entered before the question was asked: a case cannot be submitted with it.", max_length=12),
        ),
        migrations.AddField(
            model_name='historicaladverseevent',
            name='attribution_to_withdrawal',
            field=models.CharField(choices=[('unrelated', 'Unrelated'), ('unlikely', 'Unlikely'), ('possible', 'Possible'), ('probable', 'Probable'), ('definite', 'Definite'), ('not_assessed', 'Not assessed')], default='not_assessed', help_text='Separately from the MSC: whether stopping a conventional medication caused it (e.g. a flare).', max_length=16, verbose_name='attribution to stopping conventional therapy'),
        ),
        migrations.AddField(
            model_name='historicaladverseevent',
            name='expectedness',
            field=models.CharField(blank=True, choices=[('expected', 'Expected'), ('unexpected', 'Unexpected'), ('unknown', 'Unknown')], help_text='Against the reference safety information named below.', max_length=12),
        ),
        migrations.AddField(
            model_name='historicaladverseevent',
            name='expectedness_reference',
            field=models.CharField(blank=True, help_text="e.g. 'no reference safety information: unlicensed product', or the product's brochure.", max_length=300, verbose_name='expectedness judged against'),
        ),
        migrations.AddField(
            model_name='historicaladverseevent',
            name='seriousness',
            field=models.CharField(blank=True, choices=[('serious', 'Serious'), ('not_serious', 'Not serious'), ('unknown', 'Unknown')], help_text="ICH E2A: serious when a criterion below is met; 'Unknown' when the source does not say. Blank only on records entered before the question was asked: a case cannot be submitted with it.", max_length=12),
        ),
        migrations.RunPython(serious_from_criteria, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='adverseevent',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('seriousness', 'serious'), _negated=True), ('resulted_in_death', True), ('life_threatening', True), ('required_hospitalisation', True), ('persistent_disability', True), ('congenital_anomaly', True), ('medically_important', True), _connector='OR'), name='serious_names_its_criteria', violation_error_message='A serious event names its ICH E2A criteria: tick at least one.'),
        ),
        migrations.AddConstraint(
            model_name='adverseevent',
            constraint=models.CheckConstraint(condition=models.Q(('seriousness', 'serious'), models.Q(('resulted_in_death', True), ('life_threatening', True), ('required_hospitalisation', True), ('persistent_disability', True), ('congenital_anomaly', True), ('medically_important', True), _connector='OR', _negated=True), _connector='OR'), name='criteria_only_when_serious', violation_error_message="An event meeting an ICH E2A criterion is serious: answer 'Serious'."),
        ),
    ]
