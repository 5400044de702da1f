"""django-import-export resources for every clinical record type, built from the audit workbook's
column definitions (cases.exports.SHEETS) so the two never drift apart.

Columns carry readable headers and vocabulary labels; records are matched by natural keys, never
database ids:

- patient: (centre code, study ID)
- previous diagnosis: (centre, study ID, diagnosis, detail, age)
- medication: (centre, study ID, drug, drug detail, relation to MSC, start age, start day)
- MSC provider: (name, country)
- MSC product: (centre, study ID, label)
- MSC administration: (centre, study ID, administration number)
- adverse event: (centre, study ID, description, category, onset age, onset day)
- assessment: (centre, study ID, timepoint, age, day)

Rows are looked up among the records the importing user may see (`visible_to`); imported saves are
recorded in the audit trail under that user with the reason "Imported from <file name>".
"""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets

from registry.models import Centre
from registry.roles import sees_all_centres

from .exports import IMPORTABLE, SHEETS, Sheet, csv_safe
from .models import FundingSource, MedicationCourse, MscAdministration, MscProduct, MscProvider, Patient

# ---- Widgets: cell text <-> Python values, with messages a data manager can act on -------------------


def blank(value):
    return value is None or (isinstance(value, str) and value.strip() == "")


class TextWidget(widgets.Widget):
    def __init__(self, null=False, max_length=None, **kwargs):
        self.null, self.max_length = null, max_length
        super().__init__(**kwargs)

    def clean(self, value, row=None, **kwargs):
        if blank(value):
            return None if self.null else ""
        return str(value)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class ChoiceLabelWidget(widgets.Widget):
    """A vocabulary column: the label is written; the label (or the code) is read back."""

    def __init__(self, choices, null=False, **kwargs):
        self.labels = dict(choices)
        self.codes = {label.casefold(): code for code, label in self.labels.items()}
        self.codes.update({str(code).casefold(): code for code in self.labels})
        super().__init__(**kwargs)

    def clean(self, value, row=None, **kwargs):
        if blank(value):
            return ""
        code = self.codes.get(str(value).strip().casefold())
        if code is None:
            allowed = "; ".join(self.labels.values())
            raise ValueError(f"'{value}' is not an allowed value ({allowed}).")
        return code

    def render(self, value, obj=None, **kwargs):
        return self.labels.get(value, value or "")


class YesNoWidget(widgets.Widget):
    TRUE, FALSE = {"yes", "true", "1", "y"}, {"no", "false", "0", "n"}

    def __init__(self, null=False, **kwargs):
        self.null = null
        super().__init__(**kwargs)

    def clean(self, value, row=None, **kwargs):
        if blank(value):
            if self.null:
                return None
            return False
        text = str(value).strip().casefold()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(f"'{value}' is not Yes or No.")

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else ("Yes" if value else "No")


class NumberWidget(widgets.Widget):
    def __init__(self, integer=False, **kwargs):
        self.integer = integer
        super().__init__(**kwargs)

    def clean(self, value, row=None, **kwargs):
        if blank(value):
            return None
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"'{value}' is not a number.") from None
        if not number.is_finite():
            raise ValueError(f"'{value}' is not a number.")
        if self.integer:
            if number != number.to_integral_value():
                raise ValueError(f"'{value}' is not a whole number.")
            return int(number)
        return number

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class IsoDateWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        if blank(value):
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip()[:10])
        except ValueError:
            raise ValueError(f"'{value}' is not a date (YYYY-MM-DD).") from None

    def render(self, value, obj=None, **kwargs):
        return value.isoformat() if value else ""


class ScopedWidget(widgets.Widget):
    """A related record named by its natural key, looked up among what the importer may see."""

    user = None

    def patient(self, row):
        centre, study_id = (str(row.get(h) or "").strip() for h in ("Centre", "Study ID"))
        if not centre or not study_id:
            raise ValueError("Give the centre and the study ID.")
        found = Patient.objects.visible_to(self.user).filter(centre__code=centre, study_id=study_id).first()
        if found is None:
            raise ValueError(f"No case {study_id} in centre {centre} that you may see (import its Patients row first).")
        return found


class CentreWidget(ScopedWidget):
    def clean(self, value, row=None, **kwargs):
        if blank(value):
            raise ValueError("Give the centre code.")
        centres = Centre.objects.all() if sees_all_centres(self.user) else Centre.objects.filter(members=self.user)
        centre = centres.filter(code=str(value).strip()).first()
        if centre is None:
            raise ValueError(f"'{value}' is not a centre you belong to.")
        return centre

    def render(self, value, obj=None, **kwargs):
        return value.code if value else ""


class PatientWidget(ScopedWidget):
    def clean(self, value, row=None, **kwargs):
        return self.patient(row)

    def render(self, value, obj=None, **kwargs):
        return value.study_id if value else ""


class ProductWidget(ScopedWidget):
    def clean(self, value, row=None, **kwargs):
        if blank(value):
            raise ValueError("Give the label of the MSC product.")
        product = MscProduct.objects.filter(patient=self.patient(row), label=str(value).strip()).first()
        if product is None:
            raise ValueError(f"No MSC product '{value}' in this case (import the MSC products sheet first).")
        return product

    def render(self, value, obj=None, **kwargs):
        return value.label if value else ""


class AdministrationWidget(ScopedWidget):
    def clean(self, value, row=None, **kwargs):
        if blank(value):
            return None
        number = NumberWidget(integer=True).clean(value)
        found = MscAdministration.objects.filter(product__patient=self.patient(row), sequence=number).first()
        if found is None:
            raise ValueError(f"No MSC administration number {number} in this case.")
        return found

    def render(self, value, obj=None, **kwargs):
        return str(value.sequence) if value else ""


class ProviderWidget(ScopedWidget):
    def clean(self, value, row=None, **kwargs):
        if blank(value):
            return None
        country = str(row.get("Provider country") or "").strip()
        provider = MscProvider.objects.filter(name=str(value).strip(), country=country).first()
        if provider is None:
            raise ValueError(f"No MSC provider '{value}' ({country or 'no country'}): import the MSC providers sheet.")
        return provider

    def render(self, value, obj=None, **kwargs):
        return value.name if value else ""


class FundingSourcesWidget(widgets.ManyToManyWidget):
    """Funding sources by label, separated by '; '."""

    def __init__(self, **kwargs):
        super().__init__(FundingSource, separator=";", field="label", **kwargs)

    def clean(self, value, row=None, **kwargs):
        if blank(value):
            return FundingSource.objects.none()
        labels = [part.strip() for part in str(value).split(";") if part.strip()]
        known = {s.label.casefold(): s for s in FundingSource.objects.all()}
        unknown = [label for label in labels if label.casefold() not in known]
        if unknown:
            allowed = "; ".join(s.label for s in known.values())
            raise ValueError(f"Unknown funding source {', '.join(repr(u) for u in unknown)} ({allowed}).")
        return FundingSource.objects.filter(pk__in=[known[label.casefold()].pk for label in labels])

    def render(self, value, obj=None, **kwargs):
        return "; ".join(sorted(s.label for s in value.all())) if value is not None else ""


class PrecedingWithdrawalsWidget(widgets.ManyToManyWidget, ScopedWidget):
    """The medications whose withdrawal preceded a flare, by drug label within the case. A drug
    named twice takes the case's next course of that drug (courses in start order)."""

    def __init__(self, **kwargs):
        widgets.ManyToManyWidget.__init__(self, MedicationCourse, separator=";", field="drug", **kwargs)
        self.labels = ChoiceLabelWidget(MedicationCourse._meta.get_field("drug").flatchoices)

    def clean(self, value, row=None, **kwargs):
        if blank(value):
            return MedicationCourse.objects.none()
        courses = list(
            MedicationCourse.objects.filter(patient=self.patient(row)).order_by(
                "start_age_years", "start_days_from_first_msc", "pk"
            )
        )
        # Courses already linked to the event come first, so a re-import keeps its links.
        current = getattr(self, "current", None)
        linked = set(current.preceding_withdrawals.values_list("pk", flat=True)) if current and current.pk else set()
        courses.sort(key=lambda c: c.pk not in linked)
        chosen = []
        for label in (part.strip() for part in str(value).split(";") if part.strip()):
            drug = self.labels.clean(label)
            course = next((c for c in courses if c.drug == drug and c.pk not in chosen), None)
            if course is None:
                raise ValueError(f"No medication '{label}' in this case (import the Medications sheet first).")
            chosen.append(course.pk)
        return MedicationCourse.objects.filter(pk__in=chosen)

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return "; ".join(sorted(self.labels.render(c.drug) for c in value.all()))


RELATION_WIDGETS = {
    "centre": CentreWidget,
    "patient": PatientWidget,
    "product": ProductWidget,
    "administration": AdministrationWidget,
    "provider": ProviderWidget,
}


def widget_for(column):
    mf = column.model_field
    if column.attribute in RELATION_WIDGETS:
        return RELATION_WIDGETS[column.attribute]()
    if column.attribute == "preceding_withdrawals":
        return PrecedingWithdrawalsWidget()
    if column.kind == "multi":
        return FundingSourcesWidget()
    if column.kind == "choice":
        return ChoiceLabelWidget(column.choices)
    if column.kind == "boolean":
        return YesNoWidget(null=bool(mf and mf.null))
    if column.kind in ("integer", "decimal"):
        return NumberWidget(integer=column.kind == "integer")
    if column.kind == "date":
        return IsoDateWidget()
    return TextWidget(null=bool(mf and mf.null))


# ---- Resources ---------------------------------------------------------------------------------------


class SheetResource(resources.ModelResource):
    """A sheet of the audit workbook as an import-export resource; subclasses set `sheet`."""

    sheet: Sheet = None

    def __init__(self, user=None, filename="a spreadsheet", **kwargs):
        super().__init__(**kwargs)
        self.user, self.filename = user, filename
        for f in self.fields.values():
            if isinstance(f.widget, ScopedWidget):
                f.widget.user = user
        self.matched = set()
        self.scope = ScopedWidget()
        self.scope.user = user

    # -- matching by natural key
    def key_filter(self, row):
        lookup = {}
        if self.sheet.patient_path:
            lookup[self.sheet.patient_path] = self.scope.patient(row)
        for header in self.sheet.key:
            if self.sheet.patient_path and header in ("Centre", "Study ID"):
                continue
            f = self.fields[header]
            attribute = f.attribute if not f.readonly else None
            if attribute is None:
                continue  # the centre of a child record: covered by its patient
            lookup[attribute] = f.clean(row)
        return lookup

    def get_instance(self, instance_loader, row):
        try:
            lookup = self.key_filter(row)
        except (ValueError, ValidationError):
            return None  # the row's errors are reported by import_instance
        manager = self.sheet.model.objects
        queryset = manager.visible_to(self.user) if hasattr(manager, "visible_to") else manager.all()
        # Two rows with the same key are two records: each matches a record no earlier row took.
        found = queryset.filter(**lookup).exclude(pk__in=self.matched).order_by("pk").first()
        if found is not None:
            self.matched.add(found.pk)
        return found

    def after_init_instance(self, instance, new, row, **kwargs):
        for f in self.fields.values():
            if isinstance(f.widget, ScopedWidget):
                f.widget.current = instance

    def after_save_instance(self, instance, row, **kwargs):
        self.matched.add(instance.pk)

    # -- saving under the importing user
    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        case = getattr(instance, "case", None) if instance.pk or getattr(instance, "patient_id", None) else None
        try:
            locked = case is not None and case.is_locked
        except Exception:  # the parent could not be resolved: already reported
            locked = False
        if locked:
            errors.setdefault("__all__", []).append(
                ValidationError("This case is verified (locked): a registry admin must unlock it first.")
            )
        super().validate_instance(instance, errors or None, validate_unique)

    def before_save_instance(self, instance, row, **kwargs):
        instance._history_user = self.user
        instance._change_reason = f"Imported from {self.filename}"
        if isinstance(instance, Patient) and instance.pk is None and self.user is not None:
            instance.created_by = self.user

    def save_m2m(self, instance, row, **kwargs):
        instance._history_user = self.user
        instance._change_reason = f"Imported from {self.filename}"
        super().save_m2m(instance, row, **kwargs)

    def export_field(self, field, instance, **kwargs):
        # tablib would let openpyxl turn "=..." into a formula: prefix it as the CSV export does.
        return csv_safe(super().export_field(field, instance, **kwargs))

    @classmethod
    def widget_from_django_field(cls, f, default=widgets.Widget):
        return default


def resource_for(sheet):
    """A ModelResource class for the sheet: a field per column, the derived columns left out."""
    attrs = {}
    for column in sheet.columns:
        if column.derived_from:
            continue
        if column.attribute:
            attribute = column.attribute
            if sheet.model is Patient and column.header == "Study ID":
                attribute = "study_id"
            readonly = False
        else:
            attribute, readonly = column.path or None, True
        widget = widget_for(column)
        attrs[column.header] = fields.Field(
            attribute=attribute, column_name=column.header, widget=widget, readonly=readonly
        )
    if sheet.model is Patient:
        attrs["Centre"] = fields.Field(attribute="centre", column_name="Centre", widget=CentreWidget())
        attrs["Study ID"] = fields.Field(attribute="study_id", column_name="Study ID", widget=TextWidget())
    elif sheet.patient_path == "patient":
        attrs["Study ID"] = fields.Field(attribute="patient", column_name="Study ID", widget=PatientWidget())
    meta = type(
        "Meta",
        (),
        {
            "model": sheet.model,
            "fields": list(attrs),
            "import_id_fields": [],
            "skip_unchanged": True,
            "report_skipped": True,
            "clean_model_instances": True,
            "use_transactions": True,
            "skip_html_diff": True,
            "name": sheet.name,
        },
    )
    name = "".join(part.capitalize() for part in sheet.name.replace("MSC", "Msc").split()) + "Resource"
    return type(name, (SheetResource,), {**attrs, "Meta": meta, "sheet": sheet})


RESOURCES = {sheet.name: resource_for(sheet) for sheet in SHEETS}
IMPORT_ORDER = [sheet.name for sheet in IMPORTABLE]


def resource_class(model):
    return next(RESOURCES[s.name] for s in SHEETS if s.model is model)
