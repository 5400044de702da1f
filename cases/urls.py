"""Every URL of the clinical pages, one `path()` a line so that `grep name=` finds each name."""

from django.urls import path

from .kinds import RECORD_KINDS
from .views import cases, records, reports, review, spreadsheets
from .views.quality import acknowledge, case_data_quality, checklist_statement, data_quality_all

app_name = "cases"

CASE = "cases/<int:patient_pk>"

urlpatterns = [
    path("", cases.dashboard, name="dashboard"),
    path("cases/", cases.PatientListView.as_view(), name="patient-list"),
    path("cases/new/", cases.PatientCreateView.as_view(), name="patient-create"),
    path(f"{CASE}/", cases.patient_detail, name="patient-detail"),
    path(f"{CASE}/edit/", cases.PatientUpdateView.as_view(), name="patient-update"),
    path(f"{CASE}/delete/", cases.PatientDeleteView.as_view(), name="patient-delete"),
    path(f"{CASE}/history/", cases.patient_history, name="patient-history"),
    path("withdrawn/", records.withdrawn_list, name="withdrawn-list"),
    path("withdrawn/<str:model_name>/<int:pk>/restore/", records.withdrawn_restore, name="withdrawn-restore"),
    # The review workflow and data queries.
    path(f"{CASE}/submit/", review.SubmitView.as_view(), name="patient-submit"),
    path(f"{CASE}/verify/", review.VerifyView.as_view(), name="patient-verify"),
    path(f"{CASE}/unlock/", review.UnlockView.as_view(), name="patient-unlock"),
    path(f"{CASE}/queries/new/", review.QueryCreateView.as_view(), name="query-create"),
    path(f"{CASE}/queries/<int:query_pk>/answer/", review.query_action, {"action": "answer"}, name="query-answer"),
    path(f"{CASE}/queries/<int:query_pk>/close/", review.query_action, {"action": "close"}, name="query-close"),
    path(f"{CASE}/queries/<int:query_pk>/reopen/", review.query_action, {"action": "reopen"}, name="query-reopen"),
    # The checklist, data quality, summary table and cohort.
    path(f"{CASE}/checklist/", checklist_statement, name="checklist-statement"),
    path(f"{CASE}/data-quality/", case_data_quality, name="case-data-quality"),
    path(f"{CASE}/data-quality/acknowledge/", acknowledge, name="discrepancy-acknowledge"),
    path("data-quality/", data_quality_all, name="data-quality"),
    path("summary-table/", reports.summary_table, name="summary-table"),
    path("cohort/", reports.cohort, name="cohort"),
    # Spreadsheets.
    path("export/", spreadsheets.export, name="export"),
    path("import/", spreadsheets.import_upload, name="import"),
    path("import/confirm/", spreadsheets.import_confirm, name="import-confirm"),
]

# The record pages, one set per kind of record in cases.kinds.RECORD_KINDS; their names are
# "<slug>-create", "<slug>-update" and "<slug>-delete" (e.g. "adverse-event-update").
for slug, kind in RECORD_KINDS.items():
    record = f"{CASE}/{slug}/<int:record_pk>"
    urlpatterns += [
        path(f"{CASE}/{slug}/add/", records.RecordCreateView.as_view(kind=kind), name=f"{slug}-create"),
        path(f"{record}/edit/", records.RecordUpdateView.as_view(kind=kind), name=f"{slug}-update"),
        path(f"{record}/delete/", records.RecordDeleteView.as_view(kind=kind), name=f"{slug}-delete"),
    ]
