"""The rows of a data sheet: one query per sheet, read in chunks, and a row plan made once per sheet
that turns each record's values into cells."""

from operator import itemgetter
from types import SimpleNamespace

from django.db.models import Count

from ..models import AdverseEvent, DataQuery, MedicationCourse, MscAdministration, MscProvider, Patient, dose_per_kg
from ..timing import Moment, age_at, days_from_first_msc, first_msc, months_from_first_msc

CHUNK_SIZE = 2000


def included_columns(sheet, options):
    return [
        c
        for c in sheet.columns
        if (options.identifiable or not c.identifying) and (options.include_free_text or not c.free_text)
    ]


def sheet_queryset(sheet, options):
    patient_ids = options.patients.order_by().values("pk")
    if sheet.model is MscProvider:
        return MscProvider.objects.filter(products__patient__in=patient_ids).distinct()
    queryset = sheet.model.objects.visible_to(options.user)
    if sheet.patient_path == "":
        return queryset.filter(pk__in=patient_ids)
    return queryset.filter(**{f"{sheet.patient_path}__in": patient_ids})


def first_msc_anchors(options):
    """{patient id: the first MSC administration's Moment}, in one query."""
    rows = (
        MscAdministration.objects.visible_to(options.user)
        .filter(product__patient__in=options.patients.order_by().values("pk"))
        .values_list("product__patient_id", "sequence", "date", "age_years", "days_from_first_msc", "timing_precision")
    )
    per_patient = {}
    for patient_id, sequence, day, age, offset, precision in rows.iterator(chunk_size=CHUNK_SIZE):
        per_patient.setdefault(patient_id, []).append(
            SimpleNamespace(
                sequence=sequence,
                date=day,
                age_years=age,
                days_from_first_msc=offset,
                offset_unit="",  # the anchor's unit plays no part in what is derived from it
                timing_precision=precision,
                timing_estimated=False,
            )
        )
    return {pk: first_msc(items) for pk, items in per_patient.items()}


def multi_values(sheet, options):
    """The many-to-many columns, as '; '-joined labels per record, one query each."""
    if sheet.model is Patient:
        through = Patient.funding_sources.through.objects.filter(patient__in=options.patients.order_by().values("pk"))
        pairs = through.values_list("patient_id", "fundingsource__label").order_by("fundingsource__label")
        return {"funding_sources": _join(pairs)}
    if sheet.model is AdverseEvent:
        through = AdverseEvent.preceding_withdrawals.through.objects.filter(
            adverseevent__in=sheet_queryset(sheet, options).order_by().values("pk")
        )
        pairs = through.values_list("adverseevent_id", "medicationcourse__drug").order_by(
            "medicationcourse__drug", "medicationcourse_id"
        )
        drugs = dict(MedicationCourse._meta.get_field("drug").flatchoices)
        return {"preceding_withdrawals": _join((pk, drugs.get(drug, drug)) for pk, drug in pairs)}
    return {}


def _join(pairs):
    joined = {}
    for pk, label in pairs:
        joined.setdefault(pk, []).append(str(label))
    return {pk: "; ".join(labels) for pk, labels in joined.items()}


DERIVED = {"age": age_at, "days": days_from_first_msc, "months": months_from_first_msc}


class RowPlan:
    """How one sheet's records become rows, worked out once per export.

    A sheet is read with one `values_list()` query. Each record's tuple is extended with what Python
    adds: many-to-many labels, the derived times (each moment read once per row) and the computed
    dose. Every cell is then picked from the query's values and the added ones by its position in
    that extended tuple, and goes through its column's converter, chosen once here."""

    def __init__(self, sheet, options, csv_ready=False):
        columns = included_columns(sheet, options)
        self.headers = [c.header for c in columns]
        self.csv_ready = csv_ready
        patient_id = f"{sheet.patient_path}__id" if sheet.patient_path else ("id" if sheet.patient_path == "" else None)
        timing_paths = sorted({p for paths in sheet.timings.values() for p in paths})
        dose_inputs = ["cells_millions", "weight_kg"] if sheet.model is MscAdministration else []
        shown = [c.path for c in columns if c.path and c.kind != "multi"]
        self.lookups = list(
            dict.fromkeys([*shown, "id", *([patient_id] if patient_id else []), *timing_paths, *dose_inputs])
        )
        at = {path: i for i, path in enumerate(self.lookups)}

        # What Python adds to each row, in the order it is added.
        labels = multi_values(sheet, options)
        self.record_id = at["id"]
        self.multi_labels = [labels[c.path] for c in columns if c.kind == "multi"]
        self.patient_id = at[patient_id] if patient_id else None
        self.moments = {prefix: [at[p] for p in paths] for prefix, paths in sheet.timings.items()}
        self.derived = []
        for c in columns:
            if c.derived_from and c.derived_from != "dose":
                what, prefix = c.derived_from.split(":")
                self.derived.append((DERIVED[what], prefix))
        self.dose = (at["cells_millions"], at["weight_kg"]) if any(c.derived_from == "dose" for c in columns) else None
        added = [c.path for c in columns if c.kind == "multi"]
        added += [c.derived_from for c in columns if c.derived_from and c.derived_from != "dose"]
        added += ["dose"] if self.dose else []
        at.update({("added", name): len(self.lookups) + n for n, name in enumerate(added)})

        sources = []
        for c in columns:
            if c.kind == "multi":
                sources.append(at["added", c.path])
            elif c.derived_from:
                sources.append(at["added", c.derived_from])
            else:
                sources.append(at[c.path])
        self.cells = itemgetter(*sources) if len(sources) > 1 else lambda values: (values[sources[0]],)
        self.converters = [c.csv_converter() if csv_ready else c.to_cell for c in columns]

    def rows(self, records, anchors):
        """One row per record of the query (tuples of CSV-ready cells when the plan is csv_ready)."""
        for values in records:
            added = [labels.get(values[self.record_id], "") for labels in self.multi_labels]
            if self.derived:
                anchor = anchors.get(values[self.patient_id]) if self.patient_id is not None else None
                moment = {
                    prefix: Moment(date=values[d], age_years=values[a], days_from_first_msc=values[o])
                    for prefix, (d, a, o) in self.moments.items()
                }
                added += [derive(moment[prefix], anchor) for derive, prefix in self.derived]
            if self.dose:
                added.append(dose_per_kg(values[self.dose[0]], values[self.dose[1]]))
            if added:
                values = (*values, *added)
            row = [convert(value) for convert, value in zip(self.converters, self.cells(values), strict=True)]
            yield tuple(row) if self.csv_ready else row


def iter_rows(sheet, options, anchors, csv_ready=False):
    """The header row, then one row of cells per record (see RowPlan): one query, read in chunks."""
    plan = RowPlan(sheet, options, csv_ready)
    yield plan.headers
    queryset = sheet_queryset(sheet, options)
    if sheet.model is DataQuery:
        queryset = queryset.annotate(message_count=Count("messages"))
    records = queryset.order_by(*sheet.order_by).values_list(*plan.lookups).iterator(chunk_size=CHUNK_SIZE)
    yield from plan.rows(records, anchors)
