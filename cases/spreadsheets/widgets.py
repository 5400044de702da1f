"""The import widgets: a cell's text to a Python value and back, with messages a data manager can
act on. Related records are named by their natural keys and looked up among the records the
importing user may see, each once per sheet."""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from import_export import widgets

from registry.countries import UNKNOWN, country_code
from registry.models import Centre
from registry.roles import sees_all_centres

from ..models import (
    FundingSource,
    MedicationCourse,
    MscAdministration,
    MscProduct,
    MscProvider,
    Patient,
    VisitDefinition,
)


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


class CountryWidget(widgets.Widget):
    """A country column: the ISO code is written, with the name in the next column; the code (any
    case) or an English name is read back, and the name column when the code is left blank."""

    def __init__(self, allow_unknown=False, name_header=None, **kwargs):
        self.allow_unknown, self.name_header = allow_unknown, name_header
        super().__init__(**kwargs)

    def clean(self, value, row=None, **kwargs):
        code = country_code(value, allow_unknown=self.allow_unknown)
        name = (row or {}).get(self.name_header) if self.name_header else None
        if not blank(name):
            from_name = country_code(name, allow_unknown=self.allow_unknown)
            if code and from_name != code:
                raise ValueError(f"The code '{value}' and the name '{name}' are different countries.")
            code = from_name
        return code

    def render(self, value, obj=None, **kwargs):
        return str(value or "")


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


class Lookups(dict):
    """The records an import's widgets read, by natural key; `read` holds their ids."""

    def __init__(self):
        super().__init__()
        self.read = set()

    def __setitem__(self, key, found):
        super().__setitem__(key, found)
        if found is not None:
            self.read.add(id(found))


class ScopedWidget(widgets.Widget):
    """A related record named by its natural key, looked up among what the importer may see.

    The resource gives its scoped widgets one shared `lookups` dict, so each centre, case or
    product is read once per sheet rather than once per row (and per column) that names it.
    Records a sheet creates are never looked up by the same sheet (sheets import in dependency
    order), so a cached answer cannot go stale during the import.
    """

    user = None
    lookups = None

    def cache(self):
        """The lookups the resource shares among its widgets (a widget used alone keeps its own)."""
        if self.lookups is None:
            self.lookups = Lookups()
        return self.lookups

    def remember(self, key, find):
        lookups = self.cache()
        if key not in lookups:
            lookups[key] = find()
        return lookups[key]

    def patient(self, row):
        centre, study_id = (str(row.get(h) or "").strip() for h in ("Centre", "Study ID"))
        if not centre or not study_id:
            raise ValueError("Give the centre and the study ID.")
        found = self.remember(
            ("patient", centre, study_id),
            lambda: Patient.objects.visible_to(self.user).filter(centre__code=centre, study_id=study_id).first(),
        )
        if found is None:
            raise ValueError(f"No case {study_id} in centre {centre} that you may see (import its Patients row first).")
        return found

    def prefetch_patients(self, rows):
        """Look up, in a few queries, every case the rows name (see `patient`)."""
        keys = {(str(row.get("Centre") or "").strip(), str(row.get("Study ID") or "").strip()) for row in rows}
        lookups = self.cache()
        keys = sorted(k for k in keys if all(k) and ("patient", *k) not in lookups)
        visible = Patient.objects.visible_to(self.user).select_related("centre")
        for chunk in chunks(keys):
            found = {}
            for patient in visible.filter(centre__code__in={c for c, _ in chunk}, study_id__in={s for _, s in chunk}):
                found.setdefault((patient.centre.code, patient.study_id), patient)
            for key in chunk:
                lookups[("patient", *key)] = found.get(key)


def chunks(items, size=500):
    """Slices of at most `size` items: SQLite refuses queries with too many parameters."""
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


class CentreWidget(ScopedWidget):
    def centres(self):
        return Centre.objects.all() if sees_all_centres(self.user) else Centre.objects.filter(members=self.user)

    def clean(self, value, row=None, **kwargs):
        if blank(value):
            raise ValueError("Give the centre code.")
        code = str(value).strip()
        centre = self.remember(("centre", code), lambda: self.centres().filter(code=code).first())
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
        patient, label = self.patient(row), str(value).strip()
        product = self.remember(
            ("product", patient.pk, label), lambda: MscProduct.objects.filter(patient=patient, label=label).first()
        )
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
        patient = self.patient(row)
        found = self.remember(
            ("administration", patient.pk, number),
            lambda: MscAdministration.objects.filter(product__patient=patient, sequence=number).first(),
        )
        if found is None:
            raise ValueError(f"No MSC administration number {number} in this case.")
        return found

    def render(self, value, obj=None, **kwargs):
        return str(value.sequence) if value else ""


class ProviderWidget(ScopedWidget):
    def clean(self, value, row=None, **kwargs):
        if blank(value):
            return None
        country = country_code(row.get("Provider country"), allow_unknown=True)
        name = str(value).strip()
        provider = self.remember(
            ("provider", name, country), lambda: MscProvider.objects.filter(name=name, country=country).first()
        )
        if provider is None:
            raise ValueError(f"No MSC provider '{value}' ({country or 'no country'}): import the MSC providers sheet.")
        return provider

    def render(self, value, obj=None, **kwargs):
        return value.name if value else ""


class VisitDefinitionWidget(ScopedWidget):
    """A scheduled visit by its code in the visit schedule."""

    def clean(self, value, row=None, **kwargs):
        if blank(value):
            raise ValueError("Give the code of the scheduled visit, e.g. 'M1'.")
        code = str(value).strip()
        found = self.remember(("definition", code), lambda: VisitDefinition.objects.filter(code=code).first())
        if found is None:
            raise ValueError(f"No scheduled visit '{code}' in the visit schedule.")
        return found

    def render(self, value, obj=None, **kwargs):
        return value.code if value else ""


class FundingSourcesWidget(widgets.ManyToManyWidget):
    """Funding sources by label, separated by '; '."""

    def __init__(self, **kwargs):
        super().__init__(FundingSource, separator=";", field="label", **kwargs)

    known = None  # {label folded: FundingSource}, read once per import

    def clean(self, value, row=None, **kwargs):
        """The sources named, in label order, each once (as a queryset of them would give)."""
        if blank(value):
            return []
        labels = [part.strip() for part in str(value).split(";") if part.strip()]
        if self.known is None:
            self.known = {s.label.casefold(): s for s in FundingSource.objects.all()}
        unknown = [label for label in labels if label.casefold() not in self.known]
        if unknown:
            allowed = "; ".join(s.label for s in self.known.values())
            raise ValueError(f"Unknown funding source {', '.join(repr(u) for u in unknown)} ({allowed}).")
        chosen = {self.known[label.casefold()] for label in labels}
        return sorted(chosen, key=lambda s: (s.label, s.pk))

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
    "definition": VisitDefinitionWidget,
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
    if column.kind == "country":
        return CountryWidget(allow_unknown=UNKNOWN in mf.countries, name_header=f"{column.header} (name)")
    if column.kind == "boolean":
        return YesNoWidget(null=bool(mf and mf.null))
    if column.kind in ("integer", "decimal"):
        return NumberWidget(integer=column.kind == "integer")
    if column.kind == "date":
        return IsoDateWidget()
    return TextWidget(null=bool(mf and mf.null))
