"""The sheets of the audit workbook: which records each holds, its columns in order, the natural
key an import matches its rows by, and the order its rows are written in."""

from dataclasses import dataclass, field

from ..models import (
    AdverseEvent,
    Assessment,
    ChecklistStatement,
    Consent,
    DataQuery,
    FollowUpStatus,
    MedicationCourse,
    MscAdministration,
    MscProduct,
    MscProvider,
    Patient,
    PreviousDiagnosis,
    Visit,
)
from .columns import Column, column_for, key_column, model_columns, timing_columns


@dataclass
class Sheet:
    name: str
    model: type
    columns: list
    key: list  # headers of the natural key, in order
    patient_path: str | None  # lookup from the model to its Patient ("" for Patient itself)
    timings: dict = field(default_factory=dict)  # prefix -> (date, age, days) paths
    importable: bool = True
    order_by: tuple = ()

    def column(self, header):
        return next(c for c in self.columns if c.header == header)


def case_keys(patient_path):
    p = f"{patient_path}__" if patient_path else ""
    return [
        key_column("Centre", f"{p}centre__code", "Code of the centre that entered the case."),
        key_column("Study ID", f"{p}study_id", "The case's registry number, unique within the centre."),
    ]


def with_timings(model, columns, *timings):
    """Insert the derived time columns after each timing's recorded columns."""
    derived_map = {}
    for prefix, label in timings:
        derived, paths = timing_columns(prefix, label)
        derived_map[prefix] = paths
        p = f"{prefix}_" if prefix else ""
        estimated = f"{p}estimated" if prefix else "timing_estimated"
        index = next(i for i, c in enumerate(columns) if c.path == estimated) + 1
        columns[index:index] = derived
    return derived_map


def build_sheets():
    patient = Sheet(
        "Patients",
        Patient,
        [*case_keys(""), *model_columns(Patient, skip=("study_id",))],
        key=["Centre", "Study ID"],
        patient_path="",
        order_by=("centre__code", "study_id"),
    )
    patient.columns.append(
        Column(
            header="Funding sources",
            path="funding_sources",
            kind="multi",
            attribute="funding_sources",
            meaning="How the family paid, all that apply, separated by '; '.",
        )
    )
    for c in patient.columns:
        if c.path == "review_status":
            c.attribute = None  # status changes go through the review workflow and its signatures

    previous = Sheet(
        "Previous diagnoses",
        PreviousDiagnosis,
        [*case_keys("patient"), *model_columns(PreviousDiagnosis, skip=("patient",))],
        key=["Centre", "Study ID", "Diagnosis", "Diagnosis detail", "Age at time (years)"],
        patient_path="patient",
        order_by=("patient__centre__code", "patient__study_id", "age_years", "diagnosis", "diagnosis_detail", "id"),
    )
    previous.timings = with_timings(PreviousDiagnosis, previous.columns, ("", "time"))

    medications = Sheet(
        "Medications",
        MedicationCourse,
        [
            *case_keys("patient"),
            *model_columns(MedicationCourse, skip=("patient",), first=("drug", "drug_detail", "relation_to_msc")),
        ],
        key=[
            "Centre",
            "Study ID",
            "Drug",
            "Drug detail",
            "Relation to MSC",
            "Age at start (years)",
            "Start: days from first MSC",
        ],
        patient_path="patient",
        order_by=(
            "patient__centre__code",
            "patient__study_id",
            "start_age_years",
            "start_days_from_first_msc",
            "drug",
            "drug_detail",
            "relation_to_msc",
            "id",
        ),
    )
    medications.timings = with_timings(
        MedicationCourse,
        medications.columns,
        ("start", "start"),
        ("stop", "stop"),
        ("learned", "team learned of the stop"),
    )

    providers = Sheet(
        "MSC providers",
        MscProvider,
        model_columns(MscProvider),
        key=["Name", "Country"],
        patient_path=None,
        order_by=("name", "country"),
    )

    products = Sheet(
        "MSC products",
        MscProduct,
        [
            *case_keys("patient"),
            *model_columns(MscProduct, skip=("patient",), first=("label",)),
            Column(
                header="Provider",
                path="provider__name",
                attribute="provider",
                meaning="Name of the MSC provider (see the MSC providers sheet).",
            ),
            Column(
                header="Provider country",
                path="provider__country",
                meaning="Country code of the MSC provider (with its name, the provider's key).",
            ),
        ],
        key=["Centre", "Study ID", "Label"],
        patient_path="patient",
        order_by=("patient__centre__code", "patient__study_id", "label", "id"),
    )

    administrations = Sheet(
        "MSC administrations",
        MscAdministration,
        [
            *case_keys("product__patient"),
            *model_columns(MscAdministration, skip=("product",), first=("sequence",)),
            Column(
                header="Product",
                path="product__label",
                attribute="product",
                meaning="Label of the MSC product given (see the MSC products sheet).",
            ),
        ],
        key=["Centre", "Study ID", "Number"],
        patient_path="product__patient",
        order_by=("product__patient__centre__code", "product__patient__study_id", "sequence", "id"),
    )
    administrations.timings = with_timings(MscAdministration, administrations.columns, ("", "time"))
    dose = Column(
        header="Dose (x10^6 cells/kg, computed)",
        path="",
        kind="decimal",
        unit="x10^6 cells/kg",
        derived_from="dose",
        meaning="Cells (x10^6) divided by the patient's weight (kg), to three decimals; blank when either "
        "is unknown. Compare with the reported dose.",
    )
    index = next(i for i, c in enumerate(administrations.columns) if c.path == "reported_dose_millions_per_kg")
    administrations.columns.insert(index, dose)

    events = Sheet(
        "Adverse events",
        AdverseEvent,
        [
            *case_keys("patient"),
            *model_columns(AdverseEvent, skip=("patient", "administration"), first=("description", "category")),
            Column(
                header="After administration number",
                path="administration__sequence",
                kind="integer",
                attribute="administration",
                meaning="Number of the MSC administration the event followed, if any.",
            ),
            Column(
                header="Preceding withdrawals",
                path="preceding_withdrawals",
                kind="multi",
                attribute="preceding_withdrawals",
                meaning="For a flare: the medications whose withdrawal preceded it, by drug, separated by '; '.",
            ),
        ],
        key=["Centre", "Study ID", "Description", "Category", "Age at onset (years)", "Onset: days from first MSC"],
        patient_path="patient",
        order_by=(
            "patient__centre__code",
            "patient__study_id",
            "onset_age_years",
            "onset_days_from_first_msc",
            "description",
            "category",
            "id",
        ),
    )
    events.timings = with_timings(AdverseEvent, events.columns, ("onset", "onset"))

    assessments = Sheet(
        "Assessments",
        Assessment,
        [*case_keys("patient"), *model_columns(Assessment, skip=("patient",), first=("timepoint",))],
        key=["Centre", "Study ID", "Timepoint", "Age at time (years)", "Time: days from first MSC"],
        patient_path="patient",
        order_by=("patient__centre__code", "patient__study_id", "days_from_first_msc", "age_years", "timepoint", "id"),
    )
    assessments.timings = with_timings(Assessment, assessments.columns, ("", "time"))

    consents = Sheet(
        "Consent",
        Consent,
        [*case_keys("patient"), *model_columns(Consent, skip=("patient",), first=("kind", "form_version"))],
        key=["Centre", "Study ID", "Kind", "Form version"],
        patient_path="patient",
        order_by=("patient__centre__code", "patient__study_id", "kind", "form_version", "id"),
    )
    # A withdrawal's scope means nothing without its date (a constraint ties them): both travel in
    # the identifiable variant only, like every date.
    consents.column("What the withdrawal covers").identifying = True
    statuses = Sheet(
        "Vital status",
        FollowUpStatus,
        [*case_keys("patient"), *model_columns(FollowUpStatus, skip=("patient",), first=("status",))],
        key=[
            "Centre",
            "Study ID",
            "Vital status",
            "Age at last contact (years)",
            "Last contact: days from first MSC",
        ],
        patient_path="patient",
        order_by=(
            "patient__centre__code",
            "patient__study_id",
            "contact_days_from_first_msc",
            "contact_age_years",
            "status",
            "id",
        ),
    )
    statuses.timings = with_timings(FollowUpStatus, statuses.columns, ("contact", "last contact"), ("death", "death"))

    # The visit's links to the case's assessments, medication courses and adverse events are entered
    # on the case page; the sheet carries the visit itself (its scheduled visit by code).
    visits = Sheet(
        "Visits",
        Visit,
        [
            *case_keys("patient"),
            Column(
                header="Scheduled visit",
                path="definition__code",
                kind="text",
                attribute="definition",
                meaning="Code of the scheduled visit in the visit schedule, e.g. 'M1' (1 month), 'Y2' (2 years).",
            ),
            *model_columns(Visit, skip=("patient", "definition"), first=("status",)),
        ],
        key=["Centre", "Study ID", "Scheduled visit"],
        patient_path="patient",
        order_by=("patient__centre__code", "patient__study_id", "definition__order", "id"),
    )
    visits.timings = with_timings(Visit, visits.columns, ("visit", "visit"))

    statement_fields = {f.name: f for f in ChecklistStatement._meta.concrete_fields}
    statements = Sheet(
        "Checklist statements",
        ChecklistStatement,
        [
            *case_keys("patient"),
            column_for(statement_fields["item"], header="Checklist item"),
            column_for(statement_fields["statement"]),
            column_for(statement_fields["follow_up_months"]),
            column_for(statement_fields["note"]),
        ],
        key=["Centre", "Study ID", "Checklist item"],
        patient_path="patient",
        order_by=("patient__centre__code", "patient__study_id", "item", "id"),
    )
    statements.columns[2].meaning = "The safety-reporting checklist item the statement answers."
    statements.columns[
        3
    ].meaning = "An explicit answer where the case records nothing for the item, so silence is never read as 'none'."

    query_fields = {f.name: f for f in DataQuery._meta.concrete_fields}
    queries = Sheet(
        "Data queries",
        DataQuery,
        [
            *case_keys("patient"),
            column_for(query_fields["record_label"], attribute=False),
            column_for(query_fields["question"], attribute=False),
            column_for(query_fields["status"], attribute=False),
            key_column("Raised by", "raised_by__username", "The reviewer who raised the query."),
            column_for(query_fields["raised_at"], header="Raised at", attribute=False),
            Column(header="Messages", path="message_count", kind="integer", meaning="Answers and notes so far."),
        ],
        key=[],
        patient_path="patient",
        importable=False,
        order_by=("patient__centre__code", "patient__study_id", "raised_at", "id"),
    )
    queries.columns[5].kind = "text"  # a timestamp of the review, not a clinical date
    queries.columns[5].identifying = False
    sheets = [
        patient,
        previous,
        medications,
        providers,
        products,
        administrations,
        events,
        assessments,
        consents,
        statuses,
        visits,
        statements,
    ]
    for sheet in sheets:
        headers = [c.header for c in sheet.columns]
        assert len(headers) == len(set(headers)), f"duplicate headers in {sheet.name}"
        assert set(sheet.key) <= set(headers), f"unknown key column in {sheet.name}"
    return [*sheets, queries]


SHEETS = build_sheets()
SHEETS_BY_NAME = {sheet.name: sheet for sheet in SHEETS}
IMPORTABLE = [sheet for sheet in SHEETS if sheet.importable]


def sheet_for(model):
    return next(sheet for sheet in SHEETS if sheet.model is model)
