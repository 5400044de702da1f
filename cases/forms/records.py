"""Data-entry forms for the clinical records: one ModelForm per model, laid out with crispy-forms.

The models' validators, constraints and clean() supply every clinical rule and message; the forms
only choose the fields, restrict the choices to the case being edited and group the fields.
Templates wrap the forms in their own <form> tag (`helper.form_tag = False`).
"""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout
from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import transaction
from django_countries.fields import LazyTypedChoiceField

from registry.models import Centre
from registry.roles import sees_all_centres

from .. import timing
from ..history import edit_conflict
from ..models import (
    AdverseEvent,
    Assessment,
    MedicationCourse,
    MscAdministration,
    MscProduct,
    MscProvider,
    Patient,
    PreviousDiagnosis,
)
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


class PatientForm(ClinicalForm):
    """The case itself, in the centre the view fixes (`centre=`) or that the user picks (`user=`)."""

    class Meta:
        model = Patient
        fields = [
            "version",
            "centre",
            "study_id",
            "sex",
            "diagnosis",
            "diagnosis_detail",
            "jia_category",
            "classification_criteria",
            "criteria_items",
            "age_at_onset_years",
            "age_at_diagnosis_years",
            "age_at_first_msc_years",
            "age_at_last_follow_up_years",
            "family_history",
            "ana_titre",
            "ana_titre_comparator",
            "ana_pattern",
            "anti_dsdna",
            "anti_ena",
            "anti_rnp",
            "rheumatoid_factor",
            "anti_ccp",
            "hla_b27",
            "msc_decision",
            "team_knew_before_msc",
            "team_counselled_against",
            "provider_communicated_with_team",
            "conventional_therapy_refused_after_msc",
            "communication_notes",
            "total_cost_amount",
            "total_cost_currency",
            "total_cost_estimated",
            "paid_out_of_pocket",
            "funding_sources",
            "cost_notes",
            "abstracted_from",
            "source_passage",
        ]
        widgets = {"funding_sources": forms.CheckboxSelectMultiple}

    def __init__(self, *args, centre=None, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        if centre is not None:
            self.instance.centre = centre
        if centre is not None or (user is None and self.instance.centre_id):
            del self.fields["centre"]  # fixed by the view, or kept as it is
        else:
            centres = Centre.objects.none()
            if user is not None:
                centres = Centre.objects.all() if sees_all_centres(user) else user.centres.all()
            self.fields["centre"].queryset = centres
            if not self.instance.centre_id and len(centres) == 1:
                self.fields["centre"].initial = centres[0]
        self.helper.layout = self.layout()

    def layout(self):
        return Layout(
            Fieldset("Case", *[name for name in ("centre", "study_id", "sex") if name in self.fields]),
            Fieldset(
                "Diagnosis",
                "diagnosis",
                "diagnosis_detail",
                "jia_category",
                "classification_criteria",
                "criteria_items",
                "family_history",
            ),
            Fieldset(
                "Ages",
                "age_at_onset_years",
                "age_at_diagnosis_years",
                "age_at_first_msc_years",
                "age_at_last_follow_up_years",
            ),
            Fieldset(
                "Serology at diagnosis",
                "ana_titre",
                "ana_titre_comparator",
                "ana_pattern",
                "anti_dsdna",
                "anti_ena",
                "anti_rnp",
                "rheumatoid_factor",
                "anti_ccp",
                "hla_b27",
            ),
            Fieldset(
                "Decision and communication",
                "msc_decision",
                "team_knew_before_msc",
                "team_counselled_against",
                "provider_communicated_with_team",
                "conventional_therapy_refused_after_msc",
                "communication_notes",
            ),
            Fieldset(
                "Cost to the family",
                "total_cost_amount",
                "total_cost_currency",
                "total_cost_estimated",
                "paid_out_of_pocket",
                "funding_sources",
                "cost_notes",
            ),
            source(),
        )

    def clean_study_id(self):
        # Checked here rather than left to the unique constraint, which Django skips when the centre
        # is not a form field and otherwise reports away from the field.
        study_id = self.cleaned_data["study_id"]
        centre = self.cleaned_data.get("centre") or (self.instance.centre if self.instance.centre_id else None)
        if centre is not None:
            clash = Patient.objects.filter(centre=centre, study_id=study_id).exclude(pk=self.instance.pk)
            if clash.exists():
                raise ValidationError("This study ID is already used in this centre.", code="unique")
        return study_id


class PreviousDiagnosisForm(PatientRecordForm):
    class Meta:
        model = PreviousDiagnosis
        fields = [
            "version",
            "diagnosis",
            "diagnosis_detail",
            "note",
            *timing_fields(),
            "abstracted_from",
            "source_passage",
        ]

    def layout(self):
        return Layout(
            Fieldset("Diagnosis", "diagnosis", "diagnosis_detail", "note"),
            Fieldset("When", *timing_fields()),
            source(),
        )


class MedicationCourseForm(PatientRecordForm):
    class Meta:
        model = MedicationCourse
        fields = [
            "version",
            "drug",
            "drug_detail",
            "drug_class",
            "route",
            "dose",
            "dose_unit",
            "frequency",
            "relation_to_msc",
            "is_confounder",
            *timing_fields("start"),
            "is_ongoing",
            *timing_fields("stop"),
            "reason_stopped",
            "stop_decided_by",
            "team_knew_of_stop",
            "note",
            "abstracted_from",
            "source_passage",
        ]

    def layout(self):
        return Layout(
            Fieldset("Drug or therapy", "drug", "drug_detail", "drug_class", "relation_to_msc", "is_confounder"),
            Fieldset("Dose", "route", "dose", "dose_unit", "frequency"),
            Fieldset("Start", *timing_fields("start")),
            Fieldset(
                "Stop",
                "is_ongoing",
                *timing_fields("stop"),
                "reason_stopped",
                "stop_decided_by",
                "team_knew_of_stop",
            ),
            Fieldset("Notes", "note"),
            source(),
        )


class MscProviderForm(ClinicalForm):
    class Meta:
        model = MscProvider
        fields = ["version", "name", "country", "kind", "note", "abstracted_from", "source_passage"]

    def layout(self):
        return Layout(Fieldset("Provider", "name", "country", "kind", "note"), source())


class MscProductForm(PatientRecordForm):
    """A product; its provider is chosen from the list or, when it is not there, added here: the new
    provider is saved with the product, in one transaction, or not at all."""

    new_provider_name = forms.CharField(
        label="New provider's name",
        required=False,
        max_length=MscProvider._meta.get_field("name").max_length,
        help_text="Only if the provider is not in the list: it is added for every case.",
    )
    new_provider_country = MscProvider._meta.get_field("country").formfield(
        label="New provider's country", required=False, help_text="Unknown if the source does not say."
    )
    new_provider_kind = MscProvider._meta.get_field("kind").formfield(label="New provider's kind", required=False)

    NEW_PROVIDER_FIELDS = {"name": "new_provider_name", "country": "new_provider_country", "kind": "new_provider_kind"}

    class Meta:
        model = MscProduct
        fields = [
            "version",
            "label",
            "provider",
            "tissue_source",
            "donor_type",
            "harvest_procedure",
            "preparation_country",
            "administration_country",
            "passage_number",
            "viability_percent",
            "isct_phenotype_confirmed",
            "sterility_tested",
            "storage",
            "regulatory_status",
            "provider_claims",
            "abstracted_from",
            "source_passage",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].help_text = "Not in the list? Add it below."
        self.new_provider = None

    def layout(self):
        return Layout(
            Fieldset(
                "Product",
                "label",
                "provider",
                Div(
                    HTML('<p class="form-text mb-2">Or add a provider that is not in the list:</p>'),
                    *self.NEW_PROVIDER_FIELDS.values(),
                    css_class="border-start ps-3 mb-3",
                    css_id="new-provider",
                ),
                "regulatory_status",
                "provider_claims",
            ),
            Fieldset(
                "Origin",
                "tissue_source",
                "donor_type",
                "harvest_procedure",
                "preparation_country",
                "administration_country",
            ),
            Fieldset(
                "Characterisation",
                "passage_number",
                "viability_percent",
                "isct_phenotype_confirmed",
                "sterility_tested",
                "storage",
            ),
            source(),
        )

    def clean(self):
        cleaned_data = super().clean()
        name, country = cleaned_data.get("new_provider_name"), cleaned_data.get("new_provider_country")
        if not name and not country and not self.has_error("new_provider_name"):
            return cleaned_data
        if cleaned_data.get("provider"):
            self.add_error(
                "new_provider_name", "Choose a provider from the list or add a new one, not both: clear one of them."
            )
            return cleaned_data
        if not name and not self.has_error("new_provider_name"):
            self.add_error("new_provider_name", "Give the new provider's name.")
        if not country:
            self.add_error("new_provider_country", "Give the new provider's country (Unknown if not stated).")
        if name and country:
            provider = MscProvider(
                name=name,
                country=country,
                kind=cleaned_data.get("new_provider_kind") or MscProvider._meta.get_field("kind").default,
                abstracted_from=cleaned_data.get("abstracted_from") or self.instance.abstracted_from,
                source_passage=cleaned_data.get("source_passage", ""),
                created_by=self.user,
            )
            try:
                provider.full_clean(exclude=["version"])
            except ValidationError as error:
                for field, messages in error.message_dict.items():
                    self.add_error(self.NEW_PROVIDER_FIELDS.get(field), messages)
            else:
                self.new_provider = provider
        return cleaned_data

    def save(self, commit=True):
        if self.new_provider is None:
            return super().save(commit)
        if not commit:
            raise ValueError("A product with a new provider is saved with it: save(commit=True).")
        with transaction.atomic():
            self.new_provider._change_reason = self.cleaned_data.get("change_reason") or "Added from an MSC product"
            self.new_provider.save()
            self.instance.provider = self.new_provider
            return super().save(commit)


class MscAdministrationForm(ClinicalForm):
    """Dose per kg is not entered: the model computes it from cells and weight (`dose_per_kg`)."""

    class Meta:
        model = MscAdministration
        fields = [
            "version",
            "product",
            "sequence",
            "route",
            "anatomical_site",
            *timing_fields(),
            "cells_millions",
            "volume_ml",
            "weight_kg",
            "reported_dose_millions_per_kg",
            "clinic_name",
            "country",
            "cost_amount",
            "cost_currency",
            "paid_by",
            "team_informed_before",
            "note",
            "abstracted_from",
            "source_passage",
        ]

    def __init__(self, *args, patient=None, **kwargs):
        # An administration reaches its case through its product: offer only this case's products.
        super().__init__(*args, **kwargs)
        if patient is None and self.instance.product_id:
            patient = self.instance.product.patient
        self.patient = patient
        products = MscProduct.objects.filter(patient=patient) if patient else MscProduct.objects.none()
        self.fields["product"].queryset = products

    def layout(self):
        return Layout(
            Fieldset("Administration", "product", "sequence", "route", "anatomical_site"),
            Fieldset("When", *timing_fields()),
            Fieldset(
                "Dose",
                "cells_millions",
                "volume_ml",
                "weight_kg",
                # Right under the fields it is computed from, so it is in view while they are typed.
                HTML('{% include "cases/includes/dose_preview.html" %}'),
                "reported_dose_millions_per_kg",
            ),
            Fieldset("Where", "clinic_name", "country", "team_informed_before"),
            Fieldset("Cost", "cost_amount", "cost_currency", "paid_by"),
            Fieldset("Notes", "note"),
            source(),
        )


class AdverseEventForm(PatientRecordForm):
    class Meta:
        model = AdverseEvent
        fields = [
            "version",
            "description",
            "category",
            "administration",
            "preceding_withdrawals",
            *timing_fields("onset"),
            "ctcae_grade",
            "resulted_in_death",
            "life_threatening",
            "required_hospitalisation",
            "persistent_disability",
            "congenital_anomaly",
            "medically_important",
            "attribution",
            "attributed_by",
            "attribution_note",
            "action_taken",
            "outcome",
            "duration_days",
            "treatment",
            "reported_by",
            "abstracted_from",
            "source_passage",
        ]
        widgets = {"preceding_withdrawals": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        administrations = MscAdministration.objects.all()
        medications = MedicationCourse.objects.all()
        if self.patient is None:
            administrations, medications = administrations.none(), medications.none()
        else:
            administrations = administrations.filter(product__patient=self.patient)
            medications = medications.filter(patient=self.patient)
        self.fields["administration"].queryset = administrations
        self.fields["preceding_withdrawals"].queryset = medications

    def layout(self):
        return Layout(
            Fieldset("Event", "description", "category", "administration", "reported_by"),
            Fieldset("Onset", *timing_fields("onset")),
            Fieldset(
                "Severity",
                "ctcae_grade",
                "resulted_in_death",
                "life_threatening",
                "required_hospitalisation",
                "persistent_disability",
                "congenital_anomaly",
                "medically_important",
            ),
            Fieldset("Attribution", "attribution", "attributed_by", "attribution_note"),
            Fieldset("Course", "action_taken", "outcome", "duration_days", "treatment"),
            Fieldset("For a flare", "preceding_withdrawals"),
            source(),
        )


class AssessmentForm(PatientRecordForm):
    class Meta:
        model = Assessment
        fields = [
            "version",
            "timepoint",
            *timing_fields(),
            "patient_global",
            "patient_global_source",
            "physician_global",
            "physician_global_source",
            "sledai2k",
            "sledai2k_source",
            "jadas",
            "jadas_variant",
            "jadas_source",
            "mrss",
            "mrss_source",
            "esr_mm_per_h",
            "esr_normal",
            "esr_source",
            "crp_mg_per_l",
            "crp_source",
            "ck_u_per_l",
            "ck_source",
            "ana_titre",
            "ana_titre_comparator",
            "ana_titre_upper",
            "ana_pattern",
            "ana_source",
            "dlco_percent_predicted",
            "dlco_source",
            "bmi",
            "bmi_source",
            "imaging_findings",
            "imaging_source",
            "clinical_findings",
            "abstracted_from",
            "source_passage",
        ]

    def layout(self):
        return Layout(
            Fieldset("When", "timepoint", *timing_fields()),
            Fieldset(
                "Global assessments",
                "patient_global",
                "patient_global_source",
                "physician_global",
                "physician_global_source",
            ),
            Fieldset(
                "Disease activity scores",
                "sledai2k",
                "sledai2k_source",
                "jadas",
                "jadas_variant",
                "jadas_source",
                "mrss",
                "mrss_source",
            ),
            Fieldset(
                "Laboratory",
                "esr_mm_per_h",
                "esr_normal",
                "esr_source",
                "crp_mg_per_l",
                "crp_source",
                "ck_u_per_l",
                "ck_source",
            ),
            Fieldset("ANA", "ana_titre", "ana_titre_comparator", "ana_titre_upper", "ana_pattern", "ana_source"),
            Fieldset(
                "Lung, growth and imaging",
                "dlco_percent_predicted",
                "dlco_source",
                "bmi",
                "bmi_source",
                "imaging_findings",
                "imaging_source",
            ),
            Fieldset("Clinical findings", "clinical_findings"),
            source(),
        )
