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
- checklist statement: (centre, study ID, checklist item)

Rows are looked up among the records the importing user may see (`visible_to`); imported saves are
recorded in the audit trail under that user with the reason "Imported from <file name>".
"""

import operator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db import models, router
from django.db.models import CheckConstraint, F, Q
from import_export import fields, instance_loaders, resources, widgets

from registry.countries import UNKNOWN, country_code
from registry.models import Centre
from registry.roles import sees_all_centres

from .export import IMPORTABLE, SHEETS, Sheet, csv_safe
from ..models import (
    ChecklistStatement,
    FundingSource,
    MedicationCourse,
    MscAdministration,
    MscProduct,
    MscProvider,
    Patient,
)

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


# ---- Matching and validating a whole sheet without a query per row ----------------------------------


class NaturalKeyLoader(instance_loaders.BaseInstanceLoader):
    """The records a sheet's rows may match, read in a few queries when the import starts.

    Each row's natural key (`SheetResource.key_filter`) is compared in Python with the records
    that share the key's most selective column, among the records the importer may see; a row
    takes the lowest primary key no earlier row took, as the query it replaces did.
    """

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        self.by_key = None
        lookups = []
        for row in dataset.dict if dataset is not None else ():
            try:
                lookups.append(resource.key_filter(row))
            except (ValueError, ValidationError):
                continue
        if not lookups:
            return
        self.paths = list(lookups[0])
        try:
            keys = [self.key_of(lookup) for lookup in lookups]
        except (TypeError, KeyError):
            return  # an unhashable value or an odd key: query row by row
        widest = max(range(len(self.paths)), key=lambda i: len({key[i] for key in keys}))
        queryset = resource.get_queryset().order_by("pk")
        # skip_row() compares every imported column of a matched record, related records too.
        related = {"__".join(p.split("__")[:-1]) for p in self.paths if "__" in p}
        many = []
        for f in resource.get_import_fields():
            if isinstance(f.widget, widgets.ManyToManyWidget):
                many.append(f.attribute)
            elif f.attribute and not f.readonly and model_field(resource, f.attribute).many_to_one:
                related.add(f.attribute)
        queryset = queryset.select_related(*sorted(related)).prefetch_related(*many)
        column, values = self.paths[widest], {key[widest] for key in keys}
        filters = [Q(**{f"{column}__in": chunk}) for chunk in chunks(sorted(values - {None}, key=repr))]
        if None in values:
            filters.append(Q(**{f"{column}__isnull": True}))  # IN () never matches NULL
        self.by_key = {}
        for condition in filters:
            for record in queryset.filter(condition):
                self.by_key.setdefault(self.key_of_record(record), []).append(record)
        for candidates in self.by_key.values():
            candidates.sort(key=lambda r: r.pk)

    @staticmethod
    def plain(value):
        return value.pk if hasattr(value, "_meta") else value

    def key_of(self, lookup):
        if list(lookup) != self.paths:
            raise KeyError("rows give different keys")
        return tuple(self.plain(value) for value in lookup.values())

    def key_of_record(self, record):
        key = []
        for path in self.paths:
            *steps, last = path.split("__")
            value = record
            for step in steps:
                value = getattr(value, step)
            field = value._meta.get_field(last)
            key.append(getattr(value, field.attname))
        return tuple(key)

    def find(self, lookup, taken):
        if self.by_key is not None:
            try:
                candidates = self.by_key.get(self.key_of(lookup), ())
            except (TypeError, KeyError):
                pass  # a row unlike the others: ask the database
            else:
                return next((record for record in candidates if record.pk not in taken), None)
        return self.resource.get_queryset().filter(**lookup).exclude(pk__in=taken).order_by("pk").first()


def model_field(resource, attribute):
    try:
        return resource._meta.model._meta.get_field(attribute)
    except FieldDoesNotExist:
        return models.Field()  # a resource attribute that is no model field


class NoDiff:
    """The row diff import-export would render for its admin preview: ours shows counts and
    problems only (skip_html_diff), so the two field-by-field exports per row are not made."""

    def __init__(self, resource, instance, new):
        pass

    def compare_with(self, resource, instance):
        pass


class NotInPython(Exception):
    """A check constraint the Python evaluation does not understand: ask the database. `field`
    names a field the row has no value for (excluded after failing validation, or unknown)."""

    def __init__(self, what, field=None):
        super().__init__(what)
        self.field = field


COMPARISONS = {"exact": operator.eq, "gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}
NUMBERS = (int, Decimal, float)


def sql_truth(condition, values):
    """A Q over one row's field values, with SQL's three-valued logic: True, False or None (unknown).

    Only the lookups the registry's constraints use are understood (exact, isnull and the
    comparisons, against literals or F() of another field, with AND, OR and NOT); anything else
    raises NotInPython. Comparisons are only made between values of the same kind (text, number,
    date, boolean), where Python and SQL agree; text is compared for equality only (collations).
    """
    if isinstance(condition, Q):
        if condition.connector not in (Q.AND, Q.OR):
            raise NotInPython(condition.connector)
        results = [sql_truth(child, values) for child in condition.children]
        if condition.connector == Q.AND:
            result = False if False in results else (None if None in results else True)
        else:
            result = True if True in results else (None if None in results else False)
        return (None if result is None else not result) if condition.negated else result
    if not isinstance(condition, tuple) or len(condition) != 2:
        raise NotInPython(condition)
    lookup, rhs = condition
    name, _, kind = lookup.partition("__")
    kind = kind or "exact"
    if name not in values:
        raise NotInPython(lookup, field=name)
    lhs = values[name]
    if kind == "isnull":
        if not isinstance(rhs, bool):
            raise NotInPython(lookup)
        return (lhs is None) == rhs
    if kind not in COMPARISONS:
        raise NotInPython(lookup)
    if isinstance(rhs, F):
        if rhs.name not in values:
            raise NotInPython(lookup, field=rhs.name)
        rhs = values[rhs.name]
    elif hasattr(rhs, "resolve_expression"):
        raise NotInPython(rhs)
    elif rhs is None:
        if kind != "exact":
            raise NotInPython(lookup)
        return lhs is None  # Django turns `field=None` into IS NULL
    if lhs is None or rhs is None:
        return None
    if isinstance(lhs, bool) or isinstance(rhs, bool):
        same = isinstance(lhs, bool) and isinstance(rhs, bool)
    elif isinstance(lhs, NUMBERS) or isinstance(rhs, NUMBERS):
        same = isinstance(lhs, NUMBERS) and isinstance(rhs, NUMBERS)
    elif isinstance(lhs, str) or isinstance(rhs, str):
        same = isinstance(lhs, str) and isinstance(rhs, str) and kind == "exact"
    else:
        same = type(lhs) is type(rhs) and isinstance(lhs, date)
    if not same:
        raise NotInPython(lookup)
    return COMPARISONS[kind](lhs, rhs)


def field_values(model, instance, exclude):
    """The values a check constraint sees, as Model._get_field_expression_map() gives them."""
    values = {f.name: getattr(instance, f.attname) for f in model._meta.local_concrete_fields if f.name not in exclude}
    if "pk" not in exclude:
        values["pk"] = instance.pk
    return values


def check_passes(constraint, values, exclude):
    """CheckConstraint.validate() without its query, or None when the database must be asked.

    As Django's: a condition naming an excluded field (one that failed validation) is not
    checked, and an unknown (NULL) result passes, as it does in the database."""
    try:
        return sql_truth(Q(constraint.condition), values) is not False
    except NotInPython as unknown:
        return True if unknown.field in exclude else None


def validate_constraints(instance, exclude):
    """Model.validate_constraints(), with each CheckConstraint evaluated in Python when it can be."""
    errors = {}
    using = router.db_for_write(type(instance), instance=instance)
    for model, constraints in instance.get_constraints():
        generated = any(f.generated for f in model._meta.local_concrete_fields)
        values = None if generated else field_values(model, instance, exclude)
        for constraint in constraints:
            checkable = type(constraint) is CheckConstraint and values is not None
            passes = check_passes(constraint, values, exclude) if checkable else None
            try:
                if passes is None:
                    constraint.validate(model, instance, exclude=exclude, using=using)
                elif not passes:
                    message, code = constraint.get_violation_error_message(), constraint.violation_error_code
                    raise ValidationError(message, code=code)
            except ValidationError as e:
                if getattr(e, "code", None) == "unique" and len(constraint.fields) == 1:
                    errors.setdefault(constraint.fields[0], []).append(e)
                else:
                    errors = e.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


# ---- Resources ---------------------------------------------------------------------------------------


class SheetResource(resources.ModelResource):
    """A sheet of the audit workbook as an import-export resource; subclasses set `sheet`."""

    sheet: Sheet = None

    def __init__(self, user=None, filename="a spreadsheet", **kwargs):
        super().__init__(**kwargs)
        self.user, self.filename = user, filename
        self.scope = ScopedWidget()
        self.scope.user, self.scope.lookups = user, Lookups()
        for f in self.fields.values():
            if isinstance(f.widget, ScopedWidget):
                f.widget.user, f.widget.lookups = user, self.scope.lookups
        self.matched = set()
        self.creating = None

    @classmethod
    def get_diff_class(cls):
        return NoDiff

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

    def get_queryset(self):
        manager = self.sheet.model.objects
        return manager.visible_to(self.user) if hasattr(manager, "visible_to") else manager.all()

    def before_import(self, dataset, **kwargs):
        if self.sheet.patient_path:
            self.scope.prefetch_patients(dataset.dict)

    def get_instance(self, instance_loader, row):
        try:
            lookup = self.key_filter(row)
        except (ValueError, ValidationError):
            return None  # the row's errors are reported by import_instance
        # Two rows with the same key are two records: each matches a record no earlier row took.
        found = instance_loader.find(lookup, self.matched)
        if found is not None:
            self.matched.add(found.pk)
        return found

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if original is not None and hasattr(instance, "_prefetched_objects_cache"):
            # deepcopy() dropped the many-to-many links the loader prefetched (a queryset's cache is
            # not copied); the instance's are the same until save_m2m().
            original._prefetched_objects_cache = instance._prefetched_objects_cache
        return super().skip_row(instance, original, row, import_validation_errors)

    def after_init_instance(self, instance, new, row, **kwargs):
        self.creating = instance if new else None
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
        if not self._meta.clean_model_instances:
            return super().validate_instance(instance, errors or None, validate_unique)
        # Model.full_clean(), step by step, for two savings: a foreign key holding a record this
        # import read (a centre, a case...) is not read again to prove it exists, and the check
        # constraints are evaluated in Python (see validate_constraints) rather than by a query,
        # a savepoint and a release each.
        exclude = set(errors)
        try:
            instance.clean_fields(exclude=exclude | self.looked_up_relations(instance))
        except ValidationError as e:
            errors = e.update_error_dict(errors)
        try:
            instance.clean()
        except ValidationError as e:
            errors = e.update_error_dict(errors)
        if validate_unique:  # as full_clean(): only for the fields that passed validation
            exclude |= {name for name in errors if name != NON_FIELD_ERRORS}
            try:
                instance.validate_unique(exclude=exclude)
            except ValidationError as e:
                errors = e.update_error_dict(errors)
        exclude |= {name for name in errors if name != NON_FIELD_ERRORS}
        try:
            validate_constraints(instance, exclude)
        except ValidationError as e:
            errors = e.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def looked_up_relations(self, instance):
        """The foreign keys whose value is a record this import's widgets read from the database."""
        read = self.scope.lookups.read
        return {
            f.name
            for f in instance._meta.concrete_fields
            if f.many_to_one and f.is_cached(instance) and id(f.get_cached_value(instance)) in read
        }

    def before_save_instance(self, instance, row, **kwargs):
        instance._history_user = self.user
        instance._change_reason = f"Imported from {self.filename}"
        if isinstance(instance, Patient | MscProvider) and instance.pk is None and self.user is not None:
            instance.created_by = self.user
        if isinstance(instance, ChecklistStatement) and self.user is not None:
            instance.stated_by = self.user  # as the checklist form records who stated it

    def save_m2m(self, instance, row, **kwargs):
        instance._history_user = self.user
        instance._change_reason = f"Imported from {self.filename}"
        # A record this row created has no links yet: add() them (import-export's m2m_add), which
        # spares set() its read of the current links; the signals, and so the history, are the same.
        for f in self.get_import_fields():
            if isinstance(f.widget, widgets.ManyToManyWidget):
                f.m2m_add = instance is self.creating
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
            "instance_loader_class": NaturalKeyLoader,
            "name": sheet.name,
        },
    )
    name = "".join(part.capitalize() for part in sheet.name.replace("MSC", "Msc").split()) + "Resource"
    return type(name, (SheetResource,), {**attrs, "Meta": meta, "sheet": sheet})


RESOURCES = {sheet.name: resource_for(sheet) for sheet in SHEETS}
IMPORT_ORDER = [sheet.name for sheet in IMPORTABLE]


def resource_class(model):
    return next(RESOURCES[s.name] for s in SHEETS if s.model is model)
