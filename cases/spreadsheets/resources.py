"""django-import-export resources for every clinical record type, built from the audit workbook's
sheets (cases.spreadsheets.sheets) so the two never drift apart.

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

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import Q
from import_export import fields, instance_loaders, resources, widgets

from ..models import ChecklistStatement, MscProvider, Patient
from .columns import csv_safe
from .constraints import validate_constraints
from .sheets import IMPORTABLE, SHEETS, Sheet
from .widgets import CentreWidget, Lookups, PatientWidget, ScopedWidget, TextWidget, chunks, widget_for


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
