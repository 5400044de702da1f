from django.urls import path

from .kinds import RECORD_KINDS
from .views import cases as views
from .views import quality as quality_views
from .views import reports as report_views
from .views import spreadsheets as export_views

app_name = "cases"

record_patterns = []
for slug, kind in RECORD_KINDS.items():
    record_patterns += [
        path(f"cases/<int:patient_pk>/{slug}/add/", views.RecordCreateView.as_view(kind=kind), name=f"{slug}-create"),
        path(
            f"cases/<int:patient_pk>/{slug}/<int:record_pk>/edit/",
            views.RecordUpdateView.as_view(kind=kind),
            name=f"{slug}-update",
        ),
        path(
            f"cases/<int:patient_pk>/{slug}/<int:record_pk>/delete/",
            views.RecordDeleteView.as_view(kind=kind),
            name=f"{slug}-delete",
        ),
    ]

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("cases/", views.PatientListView.as_view(), name="patient-list"),
    path("export/", export_views.export, name="export"),
    path("import/", export_views.import_upload, name="import"),
    path("import/confirm/", export_views.import_confirm, name="import-confirm"),
    path("cases/new/", views.PatientCreateView.as_view(), name="patient-create"),
    path("cases/<int:patient_pk>/", views.patient_detail, name="patient-detail"),
    path("cases/<int:patient_pk>/edit/", views.PatientUpdateView.as_view(), name="patient-update"),
    path("cases/<int:patient_pk>/delete/", views.PatientDeleteView.as_view(), name="patient-delete"),
    path("cases/<int:patient_pk>/history/", views.patient_history, name="patient-history"),
    path("withdrawn/", views.withdrawn_list, name="withdrawn-list"),
    path("withdrawn/<str:model_name>/<int:pk>/restore/", views.withdrawn_restore, name="withdrawn-restore"),
    path("cases/<int:patient_pk>/submit/", views.SubmitView.as_view(), name="patient-submit"),
    path("cases/<int:patient_pk>/verify/", views.VerifyView.as_view(), name="patient-verify"),
    path("cases/<int:patient_pk>/unlock/", views.UnlockView.as_view(), name="patient-unlock"),
    path("cases/<int:patient_pk>/queries/new/", views.QueryCreateView.as_view(), name="query-create"),
    *[
        path(
            f"cases/<int:patient_pk>/queries/<int:query_pk>/{action}/",
            views.query_action,
            {"action": action},
            name=f"query-{action}",
        )
        for action in ("answer", "close", "reopen")
    ],
    *record_patterns,
    # The checklist, data quality, summary table and cohort.
    path("cases/<int:patient_pk>/checklist/", quality_views.checklist_statement, name="checklist-statement"),
    path("cases/<int:patient_pk>/data-quality/", quality_views.case_data_quality, name="case-data-quality"),
    path("cases/<int:patient_pk>/data-quality/acknowledge/", quality_views.acknowledge, name="discrepancy-acknowledge"),
    path("data-quality/", quality_views.data_quality_all, name="data-quality"),
    path("summary-table/", report_views.summary_table, name="summary-table"),
    path("cohort/", report_views.cohort, name="cohort"),
]
