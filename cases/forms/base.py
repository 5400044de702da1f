"""What every data-entry form shares: one ModelForm per model, laid out with crispy-forms.

The models' validators, constraints and clean() supply every clinical rule and message; the forms
only choose the fields, restrict the choices to the case being edited and group the fields.
Templates wrap the forms in their own <form> tag (`helper.form_tag = False`).
"""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset
from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django_countries.fields import LazyTypedChoiceField

from .. import timing
from ..history import edit_conflict
from ..models.common import TimingPrecision, TimingUnit, plain_number


def source():
    """Where the record was abstracted from: the last fieldset of every form."""
    return Fieldset("Source", "abstracted_from", "source_passage")


def timing_fields(prefix=""):
    """The fields of one `cases.models.common.timing` block, in reading order."""
    return list(timing.Moment.fields(prefix))


class TimeFromFirstMsc:
    """The 'time from first MSC' of one timing block, entered as a number and a unit (days, weeks or
    months) and stored in days (`cases.timing.days_in`); an edit shows it back as entered."""

    LIMIT_DAYS = 36525

    def __init__(self, form, prefix):
        self.form = form
        self.date, self.age, self.offset, self.unit, self.precision, _ = timing.Moment.fields(prefix)
        form.fields[self.offset] = forms.DecimalField(
            label=f"{prefix.capitalize()}: time from first MSC" if prefix else "Time from first MSC",
            required=False,
            max_digits=8,
            decimal_places=1,
            help_text="How long after the first MSC administration (negative = before it), in the unit below: "
            "'4' and 'months' for month 4. Whole days or weeks; months may have one decimal.",
        )
        form.fields[self.unit].label = (
            f"{prefix.capitalize()}: unit of time from first MSC" if prefix else "Unit of time from first MSC"
        )
        form.fields[self.unit].choices = TimingUnit.choices
        form.fields[self.unit].required = False
        instance = form.instance
        days, unit = getattr(instance, self.offset), getattr(instance, self.unit) or TimingUnit.DAYS
        form.initial[self.unit] = unit
        if days is not None:
            form.initial[self.offset] = plain_number(timing.amount_in(days, unit))

    def clean(self, cleaned_data):
        if self.offset in self.form.errors:
            return
        amount, unit = cleaned_data.get(self.offset), cleaned_data.get(self.unit) or TimingUnit.DAYS
        if amount is None:
            cleaned_data[self.unit] = ""
            return
        if unit != TimingUnit.MONTHS and amount != amount.to_integral_value():
            self.form.add_error(self.offset, f"Give whole {unit}; only months may have a decimal.")
            return
        days = timing.days_in(amount, unit)
        if abs(days) > self.LIMIT_DAYS:
            self.form.add_error(
                self.offset,
                f"The time from the first MSC must be within 100 years of it "
                f"(between -{self.LIMIT_DAYS} and {self.LIMIT_DAYS} days).",
            )
            return
        cleaned_data[self.offset], cleaned_data[self.unit] = days, unit
        if cleaned_data.get(self.precision) == TimingPrecision.UNKNOWN and unit != TimingUnit.DAYS:
            cleaned_data[self.precision] = TimingPrecision.WEEK if unit == TimingUnit.WEEKS else TimingPrecision.MONTH


RANGE_VALIDATORS = (MinValueValidator, MaxValueValidator)


def has_clinical_range(model_field):
    """Whether the model field declares a range with its own message (`cases.models.common.between`)."""
    return any(
        isinstance(v, RANGE_VALIDATORS) and v.message != type(v).message for v in getattr(model_field, "validators", [])
    )


def model_field_or_none(model, name):
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:  # a form-only field
        return None


class DateInput(forms.DateInput):
    """The browser's date picker; it needs ISO dates whatever the site's locale."""

    input_type = "date"

    def __init__(self, attrs=None, format="%Y-%m-%d"):
        super().__init__(attrs=attrs, format=format)


class ClinicalForm(forms.ModelForm):
    """Shared set-up: date pickers, a crispy helper whose layout each form gives in `layout()`, the
    record's version (optimistic locking) and, once a case is submitted, a reason for each change."""

    def __init__(self, *args, require_reason=False, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user  # who enters the record
        for name, field in self.fields.items():
            if isinstance(field, forms.DateField):
                field.widget = DateInput()
            if isinstance(field, LazyTypedChoiceField):  # a country: static/js/searchable-select.js
                field.widget.attrs["data-searchable-select"] = ""
            if has_clinical_range(model_field_or_none(self._meta.model, name)):
                # A positive integer's form field refuses -1 with Django's generic "Ensure this value is
                # greater than or equal to 0." before the model can say which range applies; leave the
                # range to the model's validators and their message.
                field.validators = [v for v in field.validators if not isinstance(v, RANGE_VALIDATORS)]
        self.times_from_first_msc = [
            TimeFromFirstMsc(self, name.removesuffix("days_from_first_msc").removesuffix("_"))
            for name in list(self.fields)
            if name.endswith("days_from_first_msc")
        ]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.render_hidden_fields = True  # the signed version travels in a hidden field
        self.helper.layout = self.layout()
        if require_reason:
            self.fields["change_reason"] = forms.CharField(
                label="Reason for change",
                max_length=500,
                help_text="This case has been submitted: say why you change it (kept in the audit trail).",
            )
            self.helper.layout.append(Fieldset("Reason for change", "change_reason"))

    def layout(self):
        raise NotImplementedError

    def clean(self):
        cleaned_data = super().clean()
        for time in self.times_from_first_msc:
            time.clean(cleaned_data)
        if self.instance.pk and "version" in cleaned_data:
            conflict = edit_conflict(self.instance, cleaned_data["version"])
            if conflict:
                raise ValidationError(conflict, code="edit_conflict")
        return cleaned_data

    def save(self, commit=True):
        if self.cleaned_data.get("change_reason"):
            self.instance._change_reason = self.cleaned_data["change_reason"]
        return super().save(commit)


class PatientRecordForm(ClinicalForm):
    """A record that belongs to a case: the view passes the case from the URL as `patient=`.

    The case is set on the instance before validation, because the model's clean() may check that
    linked records belong to the same case.
    """

    def __init__(self, *args, patient=None, **kwargs):
        super().__init__(*args, **kwargs)
        if patient is None and self.instance.patient_id:
            patient = self.instance.patient
        self.patient = patient
        if patient is not None:
            self.instance.patient = patient
